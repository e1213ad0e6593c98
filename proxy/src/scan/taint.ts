import type { CallView } from '../core/call-view.js';

/**
 * What the model could only have learned from content the agent did not write: destinations
 * (hosts of URLs, email addresses) named in tool results and nowhere in the system prompt or
 * the conversation. A response that sends something there, after the request carried an
 * injection, is following the injected instruction.
 */

const URL_HOST = /\bhttps?:\/\/([a-z0-9.-]{1,253})/gi;
const EMAIL = /\b[a-z0-9._%+-]{1,64}@([a-z0-9.-]{1,253}\.[a-z]{2,24})\b/gi;
const BARE_HOST = /\b((?:[a-z0-9-]{1,63}\.)+(?:com|net|org|io|ai|dev|app|xyz|ru|cn|info|biz|co|me|example|invalid|test))\b/gi;

export function destinationsIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const re of [URL_HOST, EMAIL, BARE_HOST]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) out.add(m[1]!.toLowerCase().replace(/\.$/, ''));
  }
  return out;
}

export function taintedDestinations(call: CallView): Set<string> {
  const fromTools = new Set<string>();
  for (const r of call.toolResults) for (const d of destinationsIn(r.content)) fromTools.add(d);
  if (fromTools.size === 0) return fromTools;
  const trusted = destinationsIn([call.system, ...call.messages.filter((m) => m.role !== 'tool' && m.toolResults.length === 0).map((m) => m.text)].join('\n'));
  for (const d of trusted) fromTools.delete(d);
  return fromTools;
}

/** The first tainted destination the text names, with where its mention ends. */
export function firstTainted(text: string, tainted: ReadonlySet<string>): { destination: string; end: number } | null {
  if (tainted.size === 0) return null;
  const lower = text.toLowerCase();
  let best: { destination: string; end: number } | null = null;
  for (const d of tainted) {
    const at = lower.indexOf(d);
    if (at !== -1 && (!best || at + d.length < best.end)) best = { destination: d, end: at + d.length };
  }
  return best;
}
