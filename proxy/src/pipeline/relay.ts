import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { findingSeq, type ResponseInspection } from '../chain/chain.js';
import type { Verdict } from '../core/verdict.js';
import type { ProxyMetrics } from '../metrics.js';
import type { StreamDecoder, StreamEvent } from '../stream/decoder.js';
import { mergeReported } from '../core/usage.js';
import { upstreamFailureReason } from '../upstream/failure.js';
import { ARRIVED, type StampedStream } from '../upstream/call.js';
import type { Exchange } from './exchange.js';
import { streamErrorBytes } from './reply.js';

function join(events: readonly StreamEvent[], end: number): string | Buffer {
  if (end === 1) return typeof events[0]!.raw === 'string' ? events[0]!.raw : Buffer.from(events[0]!.raw);
  if (events.every((e) => typeof e.raw === 'string')) {
    let s = '';
    for (let i = 0; i < end; i++) s += events[i]!.raw as string;
    return s;
  }
  return Buffer.concat(events.slice(0, end).map((e) => (typeof e.raw === 'string' ? Buffer.from(e.raw) : e.raw)));
}

function write(x: Exchange, data: string | Buffer, flushed: () => void): boolean | Promise<boolean> {
  const res = x.res;
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(data, flushed)) return true;
  // Backpressure: a slow agent holds the upstream stream back instead of growing a buffer.
  return Promise.race([once(res, 'drain'), once(res, 'close')]).then(() => !res.destroyed);
}

/**
 * Relays a streamed response fragment by fragment: every decoded event passes the response
 * side of the chain before it is written; the first failing event is never delivered, the
 * stream ends with the provider's own error event, and upstream is aborted.
 */
export async function relayStream(x: Exchange, body: Readable, decoder: StreamDecoder, inspection: ResponseInspection | null, metrics: ProxyMetrics): Promise<void> {
  const charged = x.ctx?.charge != null;
  let seq = 0;
  // Events an inspector holds back (a tool call still arriving): written once it decides.
  let pending: StreamEvent[] = [];
  const deliver = async (decoded: StreamEvent[], arrived: number, ended: boolean): Promise<boolean> => {
    let events = decoded;
    for (const e of decoded) {
      if (e.usage) x.usage = mergeReported(x.usage, e.usage);
      if (charged) x.outputText += e.text;
    }
    if (x.usageRequested) events = decoded.filter((e) => !(e.usage && e.text === ''));
    if (events.length === 0 && !(ended && pending.length)) return true;
    for (const e of events) {
      e.seq = seq++;
      e.arrivedAt = arrived;
    }
    const inspected = inspection && events.length ? inspection.inspect(events) : null;
    let finding = inspected instanceof Promise ? await inspected : inspected;
    if (ended && !finding && inspection) finding = inspection.finish();
    const queue = pending.length ? pending.concat(events) : events;
    const cutAt = finding ? findingSeq(finding, events) : Infinity;
    const holdAt = finding || ended || !inspection ? Infinity : (inspection.heldFrom() ?? Infinity);
    const limit = Math.min(cutAt, holdAt);
    let end = 0;
    while (end < queue.length && queue[end]!.seq! < limit) end++;
    // Masked events are re-serialised as soon as masked, held or not: one the format cannot
    // re-serialise cuts the stream now, before upstream sends more.
    // Only a response stage masks: without one there is nothing to look for.
    const unmaskable = inspection ? applyRedactions(queue, decoder) : -1;
    let cutBy = finding?.verdict ?? null;
    if (unmaskable !== -1 && unmaskable <= end) {
      cutBy = queue[unmaskable]!.redaction!.verdict;
      end = unmaskable;
    } else if (unmaskable !== -1 && !cutBy) {
      cutBy = queue[unmaskable]!.redaction!.verdict;
    }
    pending = cutBy ? [] : queue.slice(end);
    if (end > 0) {
      // A fragment's stay in the proxy: from its bytes arriving from upstream to its write to the
      // agent completing (handed to the kernel), queueing, scanning and backpressure included.
      // Each from its own arrival: an event held back for a later one (a pattern across fragments) counts its wait.
      const arrivals = queue.slice(0, end).map((e) => e.arrivedAt ?? arrived);
      const written = write(x, join(queue, end), () => {
        const now = performance.now();
        const cell = metrics.fragmentOverhead.cell();
        for (const at of arrivals) cell.observe((now - at) / 1000);
      });
      // An MCP response delivered is an answer given: a later cut must not answer its id again.
      for (let i = 0; i < end; i++) {
        const outcomes = queue[i]!.outcomes;
        if (outcomes) for (const o of outcomes) (x.answered ??= []).push(o.id);
      }
      const ok = written instanceof Promise ? await written : written;
      x.fragments += end;
      if (!ok) return false;
    }
    if (cutBy) {
      cut(x, cutBy, metrics);
      return false;
    }
    return true;
  };

  try {
    const stamped = body as StampedStream;
    for await (const chunk of body) {
      // The oldest of these bytes arrived then (call.ts stamps it); a body from elsewhere, now.
      const arrived = stamped[ARRIVED] ?? performance.now();
      stamped[ARRIVED] = undefined;
      if (!(await deliver(decoder.push(chunk as Buffer), arrived, false))) return;
    }
    if (!(await deliver(decoder.end(), performance.now(), true))) return;
    x.completed = true;
    if (!x.res.writableEnded) x.res.end();
  } catch (err) {
    if (x.clientGone || x.res.destroyed || x.res.writableEnded) return;
    const reason = upstreamFailureReason(err);
    cut(x, { outcome: 'block', reason, stage: 'upstream', detail: (err as Error).message }, metrics);
  } finally {
    inspection?.close();
  }
}

/**
 * Re-serialises the events a stage masked, in the provider's format (from the original text, so
 * a later mask of the same event replaces an earlier one). Returns the index of the first one
 * whose format does not allow it (the stream is cut there), or -1.
 */
function applyRedactions(queue: StreamEvent[], decoder: StreamDecoder): number {
  for (let i = 0; i < queue.length; i++) {
    const e = queue[i]!;
    if (!e.redaction) continue;
    const raw = decoder.retext?.(e, e.redaction.text) ?? null;
    if (raw === null) return i;
    e.raw = raw;
    e.redaction = undefined;
  }
  return -1;
}

/** Ends a stream under way: the provider's in-stream error, then close, then abort upstream. */
export function cut(x: Exchange, v: Verdict, metrics: ProxyMetrics): void {
  // Idempotent: a kill may cut a stream whose relay then sees the aborted upstream.
  if (x.res.writableEnded) {
    x.upstream.cancel();
    return;
  }
  x.responseVerdict = v;
  metrics.streamsCut.inc({ reason: v.reason });
  if (!x.res.destroyed && x.match) x.res.end(streamErrorBytes(x.adapter, x.match, v, x.id, x.fragments > 0, x.ctx?.call ?? null, x.answered));
  x.upstream.cancel();
}
