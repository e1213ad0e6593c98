import type { Readable } from 'node:stream';
import { findingSeq, type Inspection } from '../chain/chain.js';
import type { FragmentFinding } from '../chain/stage.js';
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
  return drained(res);
}

/** Resolves when the agent's socket drains (true) or closes (false); both listeners go either way (a stream waits many times). */
function drained(res: Exchange['res']): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed);
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Relays a streamed response fragment by fragment: every decoded event passes the response
 * side of the chain before it is written; the first failing event is never delivered, the
 * stream ends with the provider's own error event, and upstream is aborted.
 */
export function relayStream(x: Exchange, body: Readable, decoder: StreamDecoder, inspection: Inspection | null, metrics: ProxyMetrics): Promise<void> {
  const charged = x.decision.ctx?.charge != null;
  let seq = 0;
  // Events an inspector holds back (a tool call still arriving): written once it decides.
  let pending: StreamEvent[] = [];

  /** One batch of decoded events through the response stages and out; false when the stream ended here. Synchronous unless a stage or the agent's socket makes it wait. */
  const deliver = (decoded: StreamEvent[], arrived: number, ended: boolean): boolean | Promise<boolean> => {
    let events = decoded;
    for (const e of decoded) {
      if (e.usage) x.response.usage = mergeReported(x.response.usage, e.usage);
      if (charged) x.response.outputText += e.text;
    }
    if (x.transport.usageRequested) events = decoded.filter((e) => !(e.usage && e.text === ''));
    if (events.length === 0 && !(ended && pending.length)) return true;
    for (const e of events) {
      e.seq = seq++;
      e.arrivedAt = arrived;
    }
    const inspected = inspection && events.length ? inspection.inspect(events, ended) : null;
    return inspected instanceof Promise ? inspected.then((found) => decided(events, found, arrived, ended)) : decided(events, inspected, arrived, ended);
  };

  const decided = (events: StreamEvent[], found: FragmentFinding | null, arrived: number, ended: boolean): boolean | Promise<boolean> => {
    if (ended && !found && inspection) {
      const finished = inspection.finish();
      return finished instanceof Promise ? finished.then((f) => release(events, f, arrived, ended)) : release(events, finished, arrived, ended);
    }
    return release(events, found, arrived, ended);
  };

  /** What the stages decided about this batch (and the held events before it) goes out, up to where they cut or hold. */
  const release = (events: StreamEvent[], finding: FragmentFinding | null, arrived: number, ended: boolean): boolean | Promise<boolean> => {
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
    const after = (ok: boolean): boolean => {
      x.response.fragments += end;
      if (!ok) return false;
      if (cutBy) {
        cut(x, cutBy, metrics);
        return false;
      }
      return true;
    };
    if (end === 0) return after(true);
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
      if (outcomes) for (const o of outcomes) (x.response.answered ??= []).push(o.id);
    }
    return written instanceof Promise ? written.then(after) : after(written);
  };

  // Chunks are taken as they come ('data', not an async iterator: no promise per fragment), one
  // batch at a time: while one waits on a stage or on the agent's socket, upstream is paused.
  return new Promise<void>((resolve) => {
    const stamped = body as StampedStream;
    let finished = false;
    let waiting: Promise<unknown> | null = null;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      inspection?.close(x.response.completed && !x.response.verdict);
      body.off('data', onData);
      // A consumer that stops reading ends the upstream call too (call.ts): as for-await's return did.
      if (!body.destroyed) body.destroy();
      resolve();
    };
    const fail = (err: unknown): void => {
      if (finished) return;
      if (!(x.clientGone || x.res.destroyed || x.res.writableEnded)) {
        const reason = upstreamFailureReason(err);
        cut(x, { outcome: 'block', reason, stage: 'upstream', detail: (err as Error).message }, metrics);
      }
      finish();
    };
    /** Runs `step`; a batch that has to wait pauses upstream until it is done. */
    const run = (step: () => boolean | Promise<boolean>, then: () => void): void => {
      let r: boolean | Promise<boolean>;
      try {
        r = step();
      } catch (err) {
        return fail(err);
      }
      if (r === true) return then();
      if (r === false) return finish();
      body.pause();
      waiting = r.then(
        (ok) => {
          waiting = null;
          if (!ok) return finish();
          then();
        },
        (err: unknown) => {
          waiting = null;
          fail(err);
        },
      );
    };
    const resume = (): void => {
      if (!finished && body.isPaused()) body.resume();
    };
    const onData = (chunk: Buffer): void => {
      if (finished) return;
      // The oldest of these bytes arrived then (call.ts stamps it); a body from elsewhere, now.
      const arrived = stamped[ARRIVED] ?? performance.now();
      stamped[ARRIVED] = undefined;
      run(() => deliver(decoder.push(chunk), arrived, false), resume);
    };
    const onEnd = (): void => {
      if (finished) return;
      run(
        () => deliver(decoder.end(), performance.now(), true),
        () => {
          x.response.completed = true;
          if (!x.res.writableEnded) x.res.end();
          finish();
        },
      );
    };
    /**
     * Runs `f` once no batch waits: 'end', 'error' and 'close' may come while one does (on a stage,
     * on the agent's socket), and what follows it (the final batch after 'end') may wait in turn.
     * A batch already received is delivered (or cut) before the stream ends, as it arrived.
     */
    const whenIdle = (f: () => void): void => (waiting ? void waiting.then(() => whenIdle(f)) : f());
    body.on('data', onData);
    body.once('end', () => whenIdle(onEnd));
    body.once('error', (err) => whenIdle(() => fail(err)));
    // Destroyed without an end or an error (a cut, a kill): nothing more will come.
    body.once('close', () => whenIdle(finish));
  });
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
  x.response.verdict = v;
  metrics.streamsCut.inc({ reason: v.reason });
  if (!x.res.destroyed && x.decision.match) x.res.end(streamErrorBytes(x.adapter, x.decision.match, v, x.id, x.response.fragments > 0, x.decision.ctx?.call ?? null, x.response.answered));
  x.upstream.cancel();
}
