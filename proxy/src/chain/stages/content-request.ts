import { actionFor, reasonForLabel, type ContentAction, type ContentPolicy } from '../../policy/content.js';
import type { DetectorSet } from '../../scan/detectors/engine.js';
import type { Family, Finding } from '../../scan/detectors/types.js';
import { redactSpans, setAt, stringLeaves, type Leaf } from '../../scan/leaves.js';
import type { DetectResult } from '../../scan/messages.js';
import type { Scanner } from '../../scan/pool.js';
import type { RequestContext } from '../context.js';
import type { RequestStage } from '../stage.js';
import { block, warn, type Verdict } from '../../core/verdict.js';
import { recordLabels } from './content-facts.js';
import { classifyAll } from './content-classifiers.js';

const ID = 'content-request';
/** Above this much text, the keyword prefilter runs on a worker too (~1 ms per 100 KB here). */
const INLINE_PREFILTER_CHARS = 128 * 1024;
const AGENT_WRITTEN: ReadonlySet<Family> = new Set(['secrets', 'pii']);
const UNTRUSTED: ReadonlySet<Family> = new Set(['injection']);

function pathText(path: Leaf['path']): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Where in the request an entry is, for the block's detail; computed only for a block. */
function whereIs(e: Entry): string {
  return e.leaf ? pathText(e.leaf.path) : `tool result ${e.toolResult}`;
}

/**
 * Classifies the request before the provider sees it: secrets and regulated data in every
 * string of the body, prompt injection in the tool results (content the agent did not write).
 * The policy maps each label to allow, flag, redact or block; redaction rewrites the body
 * and leaves the rest of it intact. The keyword prefilter runs here; regexes run on the pool.
 */
export function contentRequest(policy: { readonly current: { readonly content: ContentPolicy } }, detectors: DetectorSet, pool: Scanner): RequestStage {
  return {
    id: ID,
    band: 'content',
    side: 'request',
    place: 'loop',
    // Without rules for some teams or agents only, what is done with a finding is the same for every principal.
    ahead: () => policy.current.content.rules.every((r) => r.teams === null && r.agents === null),
    summary: 'secrets, regulated data and prompt injection in the request, on worker threads; allow, flag, redact or block per label',
    evaluate(ctx) {
      const content = policy.current.content;
      if (!content.enabled || ctx.json === undefined || !ctx.call) return null;
      const entries: Entry[] = [];
      for (const leaf of stringLeaves(ctx.json)) entries.push({ text: leaf.text, families: AGENT_WRITTEN, detectors: null, leaf, toolResult: null });
      ctx.call.toolResults.forEach((r, i) => entries.push({ text: r.content, families: UNTRUSTED, detectors: null, leaf: null, toolResult: i }));
      // Short requests are prefiltered here and most never leave the event loop; a long one
      // goes to the pool whole, so the event loop never walks megabytes.
      const inline = entries.reduce((n, e) => n + e.text.length, 0) <= INLINE_PREFILTER_CHARS;
      if (inline) for (const e of entries) e.detectors = detectors.candidates(e.text, e.families);
      const worth = inline ? entries.filter((e) => e.detectors!.length > 0) : entries;
      // Classifiers have no keywords to prefilter on: every tool result goes to each of them.
      const untrusted = content.classifiers.length > 0 ? entries.filter((e) => e.toolResult !== null) : [];
      if (worth.length === 0 && untrusted.length === 0) return null;
      const task = {
        kind: 'detect' as const,
        setSize: detectors.detectors.length,
        items: worth.map((e) => ({ text: e.text, detectors: e.detectors, families: [...e.families] })),
      };
      const found = worth.length > 0 ? pool.detect(task) : Promise.resolve([] as DetectResult);
      if (untrusted.length === 0) return found.then((results) => decide(ctx, worth, results));
      return Promise.all([found, classifyAll(pool, content.classifiers, untrusted.map((e) => e.text))]).then(([results, classified]) =>
        decide(ctx, [...worth, ...untrusted], [...results, ...classified]),
      );
    },
  };

  function decide(ctx: RequestContext, entries: Entry[], results: DetectResult): Verdict | null {
    const content = policy.current.content;
    let blocked: { finding: Finding; where: string } | null = null;
    const flagged = new Set<string>();
    const redactions = new Map<Leaf, { start: number; end: number; label: string }[]>();
    entries.forEach((e, i) => {
      for (const f of results[i]!) {
        recordLabels(ctx, f);
        let action: ContentAction = actionFor(content, f.label, 'request', ctx.principal);
        // Untrusted content is scanned as a view, not a place in the body: a redact rule on it refuses instead (fail closed).
        if (action === 'redact' && !e.leaf) action = 'block';
        if (action === 'block') blocked ??= { finding: f, where: whereIs(e) };
        else if (action === 'flag') flagged.add(f.label);
        if (action === 'allow' || action === 'flag') ctx.content!.outbound.add(f.label);
        else if (action === 'redact') {
          const spans = redactions.get(e.leaf!) ?? [];
          spans.push({ start: f.start, end: f.end, label: f.label });
          redactions.set(e.leaf!, spans);
        }
      }
    });
    if (blocked) {
      const { finding, where } = blocked as { finding: Finding; where: string };
      return block(ID, reasonForLabel(finding.label), `${finding.label} (${finding.rule}) in ${where}`);
    }
    if (redactions.size > 0) {
      const json = structuredClone(ctx.json);
      for (const [leaf, spans] of redactions) setAt(json, leaf.path, redactSpans(leaf.text, spans));
      ctx.rewritten = { json, bytes: Buffer.from(JSON.stringify(json)) };
      const labels = new Set([...redactions.values()].flat().map((s) => s.label));
      ctx.notes.push(warn(ID, 'ALT_CONTENT_REDACTED', [...labels].join(', ')));
    }
    if (flagged.size > 0) return warn(ID, 'ALT_CONTENT_FLAGGED', [...flagged].join(', '));
    return null;
  }
}

interface Entry {
  text: string;
  families: ReadonlySet<Family>;
  /** Detectors the prefilter admitted; null until it ran (or when the worker runs it). */
  detectors: readonly number[] | null;
  /** Where the text sits in the body; null for a view (a tool result's text gathered by the adapter). */
  leaf: Leaf | null;
  /** Index among the tool results, for an entry that is one. */
  toolResult: number | null;
}
