import { actionFor, mayRedact, reasonForLabel } from '../../policy/content.js';
import { StreamMask } from '../../scan/stream-mask.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { DetectorSet } from '../../scan/detectors/engine.js';
import type { Family, Finding } from '../../scan/detectors/types.js';
import { everyString, parentAt, redactSpans, setAt, type Leaf } from '../../scan/leaves.js';
import { normalise, SHINGLE, SystemPromptIndex } from '../../scan/leak.js';
import type { ScanPool } from '../../scan/pool.js';
import { firstTainted, taintedDestinations } from '../../scan/taint.js';
import type { RequestContext } from '../context.js';
import type { Fragment } from '../../core/fragment.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';
import { block, warn } from '../../core/verdict.js';
import { recordLabels } from './content-facts.js';
import { classifyAll } from './content-classifiers.js';

const ID = 'content-response';
const FOLLOWED = 'injection.followed';
const LEAKED = 'leak.system_prompt';
const CANARY = 'leak.canary';
const MODEL_WRITTEN: ReadonlySet<Family> = new Set(['secrets', 'pii']);
/** What an MCP server returns is content the agent did not write: prompt injection is looked for too. */
const TOOL_WRITTEN: ReadonlySet<Family> = new Set(['secrets', 'pii', 'injection']);
/** Text already delivered that is scanned again with each fragment, so a match split across fragments is caught. */
export const CONTENT_CARRY = 256;
/** Characters of a stream held back while the policy may redact responses: the longest match masked in place. */
const MASK_HOLD = 128;

/**
 * Classifies every response fragment before it is written: secrets and regulated data, with a
 * carry window over fragment boundaries (and prompt injection in what MCP servers return). A
 * blocked label cuts the stream at the fragment that completes the match (that fragment is
 * never delivered). A redact rule masks the match: in a whole body in every string holding it;
 * in a stream within the tail held back for it (StreamMask). What cannot be masked in place
 * (a match spanning two strings of a body, or begun in text already released) is refused.
 */
export function contentResponse(policy: PolicyHolder, detectors: DetectorSet, pool: ScanPool): ResponseStage {
  return {
    id: ID,
    band: 'content',
    side: 'response',
    summary: 'secrets and regulated data in every response fragment (carry window across fragments), on worker threads; cut at the fragment, or masked in place under a redact rule',
    open({ request, streaming, maskable }) {
      const content = policy.current.content;
      if (!content.enabled) return null;
      const watch = contextual(request);
      const families = request.call?.mcp ? TOOL_WRITTEN : MODEL_WRITTEN;
      // What an MCP server returns goes to the declared classifiers too, window by window.
      const classifiers = request.call?.mcp ? content.classifiers : [];
      // A stream can be masked only while what it masks is held back: hold a tail when the policy
      // may redact and the stream's format can carry a mask (elsewhere a redact rule cuts at once).
      const mask = streaming && maskable === true && mayRedact(content, 'response', request.principal) ? new StreamMask(MASK_HOLD) : null;
      let carry = '';
      return {
        inspect(fragments: readonly Fragment[]): FragmentFinding | null | Promise<FragmentFinding | null> {
          let added = '';
          for (const f of fragments) added += f.text;
          if (added.length === 0) return null;
          const window = carry + added;
          const fresh = carry.length;
          // Stream offset of the window's first character, for masking.
          const base = mask ? mask.add(fragments) - fresh : 0;
          // The clean path (no watch, no candidate) allocates nothing beyond the window: fragments are many.
          const inline = watch ? judge(request, watch(carry, fragments), { fragments, fresh, window, base, mask }) : null;
          const candidates = detectors.candidates(window, families);
          if (candidates.length === 0 && classifiers.length === 0) {
            if (!inline) carry = tail(window);
            return inline;
          }
          const detected = candidates.length > 0 ? pool.detect({ kind: 'detect', setSize: detectors.detectors.length, items: [{ text: window, detectors: candidates }] }) : Promise.resolve([[]]);
          const scored = classifiers.length > 0 ? classifyAll(pool, classifiers, [window]) : Promise.resolve([[]]);
          return Promise.all([detected, scored]).then(([[found], [classified]]) => {
            // A match that ends inside the carry was judged with the fragment that completed it.
            const judged = judge(request, [...found!, ...classified!].filter((f) => f.end > fresh), { fragments, fresh, window, base, mask });
            const decided = !inline || (judged && judged.index < inline.index) ? judged : inline;
            if (!decided) carry = tail(window);
            return decided;
          });
        },
        ...(mask ? { heldFrom: () => mask.heldFrom() } : {}),
        close() {},
      };
    },
  };

  /**
   * Checks that need the request: a response naming a destination that only an injected tool
   * result named, and a response repeating the system prompt. Cheap enough for the event loop.
   */
  function contextual(request: RequestContext): ((carry: string, fragments: readonly Fragment[]) => Finding[]) | null {
    const content = policy.current.content;
    const call = request.call;
    if (!call) return null;
    const injected = [...(request.content?.labels ?? [])].some((l) => l.startsWith('injection.'));
    const tainted = injected && actionFor(content, FOLLOWED, 'response', request.principal) !== 'allow' ? taintedDestinations(call) : new Set<string>();
    const prompt = call.system.length >= SHINGLE && actionFor(content, LEAKED, 'response', request.principal) !== 'allow' ? new SystemPromptIndex(call.system) : null;
    const canary = request.canary && actionFor(content, CANARY, 'response', request.principal) !== 'allow' ? request.canary : null;
    if (tainted.size === 0 && (!prompt || prompt.empty) && !canary) return null;
    return (carry, fragments) => {
      const found: Finding[] = [];
      let text = carry;
      for (const f of fragments) {
        const before = text.length;
        text += f.text;
        const hit = firstTainted(text, tainted);
        if (hit && hit.end > before) found.push({ rule: 'injection-followed-destination', label: FOLLOWED, family: 'injection', start: hit.end - hit.destination.length, end: hit.end });
        if (prompt && prompt.firstLeak(normalise(text)) !== -1) found.push({ rule: 'system-prompt-repeated', label: LEAKED, family: 'injection', start: before, end: text.length });
        const planted = canary ? text.indexOf(canary) : -1;
        if (planted !== -1 && planted + canary!.length > before) found.push({ rule: 'canary-repeated', label: CANARY, family: 'injection', start: planted, end: planted + canary!.length });
        if (found.length) break;
      }
      return found;
    };
  }

  function judge(request: RequestContext, findings: Finding[], at: Batch): FragmentFinding | null {
    const { fragments, fresh, window } = at;
    const content = policy.current.content;
    let cut: FragmentFinding | null = null;
    const flagged = new Set<string>();
    const redacted = new Set<string>();
    // A whole body can be rewritten before anything is delivered; a stream already under way cannot.
    const body = fragments.length === 1 ? fragments[0]!.body : undefined;
    const spans = body ? new Map<Leaf, { start: number; end: number; label: string }[]>() : null;
    let leaves: Leaf[] | null = null; // only when something is to be masked
    for (const f of findings) {
      recordLabels(request, f);
      const action = actionFor(content, f.label, 'response', request.principal);
      if (action === 'flag') {
        flagged.add(f.label);
        continue;
      }
      if (action !== 'redact' && action !== 'block') continue;
      const refusal = block(ID, reasonForLabel(f.label), `${f.label} (${f.rule}) in the response`);
      const masked =
        action === 'redact' &&
        (spans
          ? maskableBody(body!.json) && locate(body!.json, (leaves ??= everyString(body!.json)), window.slice(f.start, f.end), f.label, spans)
          : (at.mask?.mask(at.base + f.start, at.base + f.end, f.label, refusal) ?? false));
      if (masked) redacted.add(f.label);
      else {
        const index = fragmentAt(fragments, f.end - 1 - fresh);
        if (!cut || index < cut.index) cut = { index, verdict: refusal };
      }
    }
    if (cut) return cut;
    if (redacted.size > 0) {
      // A whole body is rewritten here; a stream's held fragments carry their masked text to the relay.
      if (spans) {
        for (const [leaf, s] of spans) setAt(body!.json, leaf.path, redactSpans(leaf.text, s));
        body!.rewritten = true;
      }
      if (!request.notes.some((n) => n.stage === ID && n.reason === 'ALT_CONTENT_REDACTED')) request.notes.push(warn(ID, 'ALT_CONTENT_REDACTED', [...redacted].join(', ')));
    }
    if (flagged.size > 0 && !request.notes.some((n) => n.stage === ID && n.reason === 'ALT_CONTENT_FLAGGED')) request.notes.push(warn(ID, 'ALT_CONTENT_FLAGGED', [...flagged].join(', ')));
    return null;
  }
}

/** One batch as judge sees it: the window scanned (carry + the batch's text) and where it sits in the stream. */
interface Batch {
  fragments: readonly Fragment[];
  /** Where the batch's own text begins in the window (after the carry). */
  fresh: number;
  window: string;
  /** Stream offset of the window's first character (masking only). */
  base: number;
  mask: StreamMask | null;
}

/**
 * Whether a body can be masked string by string: not when it carries logprobs (their tokens
 * spell the text out again, in pieces no search finds).
 */
function maskableBody(json: unknown): boolean {
  const stack: unknown[] = [json];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (/logprob/i.test(k) && x !== null && !(Array.isArray(x) && x.length === 0)) return false;
        stack.push(x);
      }
    }
  }
  return true;
}

/**
 * Marks every occurrence of `matched` in the body's strings (every string, structural ones
 * too) for redaction. False when it occurs in none (the match spans two strings of the body),
 * or in a signed block (Anthropic thinking, sent back verbatim): then it cannot be masked.
 */
function locate(json: unknown, leaves: readonly Leaf[], matched: string, label: string, spans: Map<Leaf, { start: number; end: number; label: string }[]>): boolean {
  let found = false;
  for (const leaf of leaves) {
    if (matched.length === 0 || !leaf.text.includes(matched)) continue;
    const parent = parentAt(json, leaf.path);
    if (parent !== null && typeof parent === 'object' && 'signature' in parent) return false;
    for (let at = leaf.text.indexOf(matched); at !== -1; at = leaf.text.indexOf(matched, at + matched.length)) {
      const list = spans.get(leaf) ?? [];
      list.push({ start: at, end: at + matched.length, label });
      spans.set(leaf, list);
      found = true;
    }
  }
  return found;
}

/** What of a window is carried into the next one. */
function tail(window: string): string {
  return window.length > CONTENT_CARRY ? window.slice(window.length - CONTENT_CARRY) : window;
}

/** The fragment holding character `offset` of the fragments' joined text. */
function fragmentAt(fragments: readonly Fragment[], offset: number): number {
  let end = 0;
  for (let i = 0; i < fragments.length; i++) {
    end += fragments[i]!.text.length;
    if (offset < end) return i;
  }
  return fragments.length - 1;
}
