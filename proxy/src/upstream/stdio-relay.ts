import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { formatSse } from '../stream/sse.js';
import { readBody } from '../pipeline/body.js';

/**
 * MCP servers that speak stdio, governed through `altrace mcp wrap`. No network proxy sees a
 * child process's pipes, so the wrap (beside the agent, in its pod) opens a relay to the proxy:
 * a GET of `/mcp/{server}` with `x-altrace-relay: open`, governed like any request of that
 * agent (key, kill switch, destinations), answered with an event stream that stays open. The
 * agent's messages, posted by the wrap to `/mcp/{server}` with `x-altrace-relay: <relay id>`,
 * pass the whole chain; what the chain lets through is sent down the relay as a `request`
 * event, the wrap gives it to the server, and posts the server's answer back to
 * `/altrace/v1/mcp-relay/{relay id}/{seq}`, where it is the upstream's answer and the
 * response stages see it as they see an HTTP server's. The relay id, 128 random bits known
 * only to the wrap that opened it, is the capability to answer; using it for requests also
 * takes the key that opened it.
 */

export const RELAY_HEADER = 'x-altrace-relay';
export const RELAY_OPEN = 'open';
export const RELAY_REPLY_PATH = '/altrace/v1/mcp-relay/';
/** The status the server's answer stands for (200 with a body, 202 for notifications only). */
export const RELAY_STATUS_HEADER = 'x-altrace-relay-status';
/**
 * Confines a server a wrap is about to launch (mcp.servers.<name>.egress; the node agent does it
 * in the kernel). Asked before the relay answers, so a server that cannot be confined is never
 * started; released when the relay closes.
 */
export type Confinement = { cgroup: string } | { refused: string } | null;

export interface RelayConfinement {
  /** The cgroup the wrap starts the server in; null: the server declares no egress; refused: why it cannot be confined. */
  confine(server: string, relayId: string): Confinement | Promise<Confinement>;
  release(relayId: string): void;
}

/** Keeps idle relays open through intermediaries that cut silent connections. */
const HEARTBEAT_MS = 15_000;

class RelayClosed extends Error {
  // Read as a reset upstream connection (ALT_UPSTREAM_RESET): the server's side went away.
  readonly code = 'UND_ERR_SOCKET';
}

class RelayTimeout extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT';
}

interface Pending {
  handler: Dispatcher.DispatchHandler;
  controller: RelayController;
  timer: NodeJS.Timeout;
}

class RelayTooLarge extends Error {
  readonly code = 'ALT_RESPONSE_TOO_LARGE';
}

/** What undici hands a handler to control its request; an abort fails the request as undici's does. */
class RelayController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  /** Set while an answer streams: the proxy's backpressure reaches the wrap's body. */
  flow: { pause(): void; resume(): void } | null = null;
  constructor(public onAbort: (err: Error) => void) {}
  abort(err: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = err;
    this.onAbort(err);
  }
  pause(): void {
    this.paused = true;
    this.flow?.pause();
  }
  resume(): void {
    this.paused = false;
    this.flow?.resume();
  }
}

/** One open relay: its event stream to the wrap, and the requests sent down it not yet answered. */
export class StdioRelay {
  readonly #pending = new Map<number, Pending>();
  /** Answers still streaming (the server's own messages, for the agent's GET): ended when the relay closes. */
  readonly #streams = new Set<Readable>();
  readonly #heartbeat: NodeJS.Timeout;
  #seq = 0;
  #closed = false;

  constructor(
    /** 128 random bits (newRelayId). */
    readonly id: string,
    readonly server: string,
    /** The key (its id) that opened the relay: requests through it must present the same. */
    readonly keyId: string,
    readonly agent: string,
    private readonly res: ServerResponse,
    private readonly timeoutMs: number,
    private readonly onClose: (relay: StdioRelay) => void,
    /** The cgroup the wrap starts the server in (confined), or null. */
    readonly cgroup: string | null = null,
  ) {
    this.#heartbeat = setInterval(() => this.res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.#heartbeat.unref();
    this.res.once('close', () => this.close());
    this.res.write(formatSse('relay', JSON.stringify(cgroup === null ? { id: this.id, server } : { id: this.id, server, cgroup })));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The dispatcher the proxy calls upstream through: a request becomes a `request` event. */
  readonly dispatcher = {
    dispatch: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean => {
      const seq = ++this.#seq;
      const controller: RelayController = new RelayController((err) => {
        this.#settle(seq);
        handler.onResponseError?.(controller as never, err);
      });
      handler.onRequestStart?.(controller as never, {});
      if (controller.aborted) return true;
      if (this.#closed) {
        handler.onResponseError?.(controller as never, new RelayClosed(`the relay of MCP server ${this.server} (altrace mcp wrap) has closed`));
        return true;
      }
      const timer = setTimeout(() => this.#fail(seq, new RelayTimeout(`altrace mcp wrap did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      this.#pending.set(seq, { handler, controller, timer });
      const body = options.body ? Buffer.from(options.body as Buffer).toString('utf8') : '';
      this.res.write(formatSse('request', JSON.stringify({ seq, method: options.method, body })));
      return true;
    },
  } as unknown as Dispatcher;

  /** The wrap's answer to request `seq`; false when nothing waits for it (answered, timed out, cancelled). */
  answer(seq: number, status: number, headers: IncomingHttpHeaders, body: Buffer): boolean {
    const p = this.#pending.get(seq);
    if (!p) return false;
    this.#settle(seq);
    const { handler, controller } = p;
    handler.onResponseStart?.(controller as never, status, headers, '');
    if (!controller.aborted && body.length > 0) handler.onResponseData?.(controller as never, body);
    if (!controller.aborted) handler.onResponseEnd?.(controller as never, {});
    return true;
  }

  /**
   * The wrap's answer to `seq` as an event stream, taken chunk by chunk as it comes: the server's
   * own messages (requests such as sampling and elicitation, notifications) for the agent's GET
   * of `/mcp/{server}`, which the response stages see as they see an HTTP server's event stream.
   * `ended` runs once it is over, however it ends. False when nothing waits for `seq`.
   */
  answerStream(seq: number, status: number, headers: IncomingHttpHeaders, body: Readable, ended: () => void): boolean {
    const p = this.#pending.get(seq);
    if (!p) return false;
    this.#settle(seq);
    const { handler, controller } = p;
    let over = false;
    const finish = (err: Error | null): void => {
      if (over) return;
      over = true;
      this.#streams.delete(body);
      controller.flow = null;
      if (!controller.aborted) {
        if (err) handler.onResponseError?.(controller as never, err);
        else handler.onResponseEnd?.(controller as never, {});
      }
      // Ended early (an abort, a broken stream): the wrap's POST is not read further. (After a
      // normal end the request stays whole: its connection answers it.)
      if (err || controller.aborted) body.destroy();
      ended();
    };
    const abort = controller.onAbort;
    // The proxy gave up on it (the agent went, a kill): the wrap's body is not read further.
    controller.onAbort = (err) => {
      abort(err);
      finish(null);
    };
    controller.flow = { pause: () => body.pause(), resume: () => body.resume() };
    this.#streams.add(body);
    handler.onResponseStart?.(controller as never, status, headers, '');
    body.on('data', (chunk: Buffer) => {
      if (!controller.aborted) handler.onResponseData?.(controller as never, chunk);
    });
    body.once('end', () => finish(null));
    body.once('error', (err) => finish(new RelayClosed(`the stream of MCP server ${this.server}'s messages broke: ${err.message}`)));
    body.once('close', () => finish(over ? null : new RelayClosed(`the stream of MCP server ${this.server}'s messages ended before its end`)));
    if (controller.paused) body.pause();
    return true;
  }

  /** The wrap's answer to `seq` could not be taken (too large): that request fails. */
  refuse(seq: number, err: Error): void {
    this.#fail(seq, err);
  }

  /** Ends the relay (the wrap went, a kill, the agent stopping): every request still waiting fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const seq of [...this.#pending.keys()]) this.#fail(seq, new RelayClosed(`the relay of MCP server ${this.server} (altrace mcp wrap) closed before the server answered`));
    for (const body of [...this.#streams]) body.destroy(new RelayClosed(`the relay of MCP server ${this.server} (altrace mcp wrap) closed`));
    if (!this.res.writableEnded) this.res.end();
    this.onClose(this);
  }

  #settle(seq: number): void {
    const p = this.#pending.get(seq);
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending.delete(seq);
  }

  #fail(seq: number, err: Error): void {
    const p = this.#pending.get(seq);
    if (!p) return;
    this.#settle(seq);
    if (!p.controller.aborted) p.handler.onResponseError?.(p.controller as never, err);
  }
}

/** The proxy's open relays, by id. */
export class StdioRelays {
  readonly #open = new Map<string, StdioRelay>();

  constructor(
    readonly timeoutMs: number,
    readonly confinement: RelayConfinement | null = null,
  ) {}

  /**
   * The first step of opening a relay: its id, and the cgroup its server must start in. Null
   * cgroup: not confined. Refused: the relay must not open (the server would run unconfined).
   */
  async prepare(server: string): Promise<{ id: string; cgroup: string | null } | { refused: string }> {
    const id = randomBytes(16).toString('hex');
    const confined = (await this.confinement?.confine(server, id)) ?? null;
    if (confined && 'refused' in confined) return confined;
    return { id, cgroup: confined?.cgroup ?? null };
  }

  /** Closes the relays of a server (its servers stop: the wraps end them), or only its unconfined ones. */
  closeServer(server: string, unconfinedOnly: boolean): number {
    let closed = 0;
    for (const relay of [...this.#open.values()]) {
      if (relay.server !== server || (unconfinedOnly && relay.cgroup !== null)) continue;
      relay.close();
      closed++;
    }
    return closed;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Opens a prepared relay: the wrap learns its id (and cgroup) at once. */
  open(prepared: { id: string; cgroup: string | null }, server: string, keyId: string, agent: string, res: ServerResponse): StdioRelay {
    const relay = new StdioRelay(
      prepared.id,
      server,
      keyId,
      agent,
      res,
      this.timeoutMs,
      (r) => {
        this.#open.delete(r.id);
        if (r.cgroup !== null) this.confinement?.release(r.id);
      },
      prepared.cgroup,
    );
    this.#open.set(relay.id, relay);
    return relay;
  }

  /** The relay a request names, if it is open, for that server, and opened with the same key. */
  find(id: string | undefined, server: string, keyId: string): StdioRelay | null {
    const relay = id ? this.#open.get(id) : undefined;
    return relay && !relay.closed && relay.server === server && relay.keyId === keyId ? relay : null;
  }

  closeAll(): void {
    for (const relay of [...this.#open.values()]) relay.close();
  }

  /**
   * POST /altrace/v1/mcp-relay/{id}/{seq}: the wrap's answer. 204 when it was awaited, 404 when
   * not (the relay or the request is gone: the wrap drops it), 400 for a malformed path or status.
   */
  async reply(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<void> {
    const [id, seqText, extra] = (req.url ?? '').slice(RELAY_REPLY_PATH.length).split('?')[0]!.split('/');
    const seq = Number(seqText);
    const status = Number(req.headers[RELAY_STATUS_HEADER] ?? 200);
    if (req.method !== 'POST' || !id || extra !== undefined || !Number.isSafeInteger(seq) || seq < 1 || !Number.isInteger(status) || status < 200 || status > 599) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('expected POST /altrace/v1/mcp-relay/{relay id}/{seq} with x-altrace-relay-status 200-599\n');
      return;
    }
    const relay = this.#open.get(id);
    const contentType = req.headers['content-type'];
    if (typeof contentType === 'string' && contentType.startsWith('text/event-stream')) {
      // The server's own messages, as long as the wrap runs: answered once they end.
      const streaming = relay?.answerStream(seq, status, { 'content-type': contentType }, req, () => {
        if (!res.headersSent && !res.destroyed) res.writeHead(204).end();
      });
      if (!streaming) res.writeHead(404).end();
      return;
    }
    const declared = Number(req.headers['content-length']);
    let body: Buffer;
    try {
      const read = await readBody(req, maxBytes, Number.isFinite(declared) ? declared : null);
      if (read.tooLarge) {
        relay?.refuse(seq, new RelayTooLarge(`the MCP server's answer exceeds ${maxBytes} bytes`));
        res.writeHead(413, { connection: 'close' }).end();
        return;
      }
      body = Buffer.from(read.bytes);
    } catch {
      res.destroy();
      return;
    }
    const answered = relay?.answer(seq, status, contentType ? { 'content-type': contentType } : {}, body) ?? false;
    res.writeHead(answered ? 204 : 404).end();
  }
}
