import { spawn, type ChildProcess } from 'node:child_process';
import { formatPackage } from '../../../proxy/src/index.js';
import { launchIdentity } from './launch.js';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Agent, fetch as undiciFetch } from 'undici';
import { readSse } from './sse-lines.js';

/**
 * `altrace mcp wrap`: a stdio MCP server governed by the proxy. The MCP client starts the wrap
 * where it started the server; the wrap opens a relay to the proxy (GET /mcp/{server},
 * x-altrace-relay: open), starts the server, and carries messages both ways:
 *
 *   client stdin ──POST /mcp/{server}──► proxy: the chain ──relay `request` event──► wrap ──► server stdin
 *   client stdout ◄── the chain's answer ◄── POST /altrace/v1/mcp-relay/{id}/{seq} ◄── wrap ◄── server stdout
 *
 * so the server sees only what the chain let through, and the client only what the response
 * stages passed (tool pins, poisoning, output scanning, flows), as for an HTTP server.
 * Messages the server starts itself (its requests — sampling, elicitation, roots — and its
 * notifications) travel as an HTTP server's do, on the agent's event stream: the wrap opens
 * `GET /mcp/{server}` through the chain, the proxy sends the GET down the relay, and the wrap
 * answers it with a stream of the server's messages, which the response stages see message by
 * message before the wrap hands them to the client. The client's answers to the server's
 * requests go back like any of its messages. Should that stream be refused or end, the wrap
 * falls back: list-changed, progress (without its free text) and cancellation notifications are
 * passed on, other notifications dropped, and the server's requests answered with an error.
 */

export interface WrapOptions {
  proxyUrl: string;
  server: string;
  key: string;
  command: string;
  args: string[];
  /** x-altrace-run for the messages of this session. */
  run?: string;
  input: Readable;
  output: Writable;
  /** Diagnostics, to the wrap's stderr (what MCP clients log). */
  log: (message: string) => void;
}

export class WrapRefused extends Error {
  readonly code = 'ALT_WRAP_REFUSED';
}

type RpcId = string | number;
type Message = Record<string, unknown>;

/** Server notifications that carry no text for the model: passed on as they are. */
const PASSED_NOTIFICATIONS = new Set(['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed', 'notifications/cancelled', 'notifications/progress']);
const METHOD_NOT_FOUND = -32601;
const PARSE_ERROR = -32700;
const INTERNAL_ERROR = -32603;

const idKey = (id: RpcId): string => `${typeof id}:${id}`;
const isRequest = (m: Message): boolean => typeof m.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number');
const isResponse = (m: Message): boolean => m.method === undefined && ('result' in m || 'error' in m);
const messagesOf = (value: unknown): Message[] => (Array.isArray(value) ? value : [value]).filter((m): m is Message => typeof m === 'object' && m !== null && !Array.isArray(m));
const errorFor = (id: RpcId | null, code: number, message: string): Message => ({ jsonrpc: '2.0', id, error: { code, message } });
/** The server's own messages held while the agent's event stream opens (a server may ask for roots at once). */
const MAX_QUEUED = 256;
/** The agent's event stream of the server's messages may stay quiet for as long as the server does. */
const quietStreams = new Agent({ bodyTimeout: 0, headersTimeout: 30_000 });
/**
 * How long one stream of the server's messages runs before the wrap ends it and the next one
 * opens: a request body that never ends meets the proxy's request timeout (listen.request_timeout_ms,
 * 300 s by default). Messages in between are held, as while the first one opens.
 */
export const ROTATE_MS = Number(process.env.ALTRACE_WRAP_STREAM_ROTATE_MS ?? 60_000);
/** Bytes of the server's messages buffered toward the proxy before more are refused (the proxy reads with backpressure). */
const MAX_BUFFERED_BYTES = 4 * 2 ** 20;
/** Streams that failed in a row before the wrap stops opening them (then: the fallback). */
const MAX_STREAM_FAILURES = 5;

/** Runs one wrapped server until the client or the server goes; resolves to the exit code. */
export async function runWrap(o: WrapOptions): Promise<number> {
  const endpoint = `${o.proxyUrl.replace(/\/+$/, '')}/mcp/${encodeURIComponent(o.server)}`;
  const auth: Record<string, string> = { authorization: `Bearer ${o.key}`, ...(o.run ? { 'x-altrace-run': o.run } : {}) };
  const relayAbort = new AbortController();
  // What it launches, for the registry's server.json packages (stage mcp-registry).
  const launched = launchIdentity(o.command, o.args);
  const opened = await fetch(endpoint, { headers: { ...auth, accept: 'text/event-stream', 'x-altrace-relay': 'open', ...(launched ? { 'x-altrace-mcp-package': formatPackage(launched) } : {}) }, signal: relayAbort.signal }).catch((err: Error) => {
    throw new WrapRefused(`cannot reach the Altrace proxy at ${o.proxyUrl}: ${err.cause instanceof Error ? err.cause.message : err.message}`);
  });
  if (!opened.ok || !opened.body || !String(opened.headers.get('content-type')).startsWith('text/event-stream')) {
    throw new WrapRefused(`the proxy refused the relay of MCP server ${o.server}: ${await refusalText(opened)}`);
  }
  const events = readSse(opened.body)[Symbol.asyncIterator]();
  const first = await events.next();
  const opening = !first.done && first.value.event === 'relay' ? (JSON.parse(first.value.data) as { id?: unknown; cgroup?: unknown }) : {};
  const relayId = opening.id;
  if (typeof relayId !== 'string') throw new WrapRefused('the proxy did not name the relay (is it an Altrace proxy with this server configured as transport: stdio?)');
  const cgroup = opening.cgroup;
  if (cgroup !== undefined && (typeof cgroup !== 'string' || !isConfinementCgroup(cgroup))) throw new WrapRefused(`the proxy named ${String(cgroup).slice(0, 200)} as the server's cgroup, which is not one the agent makes for MCP servers`);

  const child = cgroup === undefined ? spawn(o.command, o.args, { stdio: ['pipe', 'pipe', 'inherit'] }) : spawnConfined(cgroup, o.command, o.args);
  if (cgroup !== undefined) o.log(`altrace mcp wrap: ${o.server} starts confined to its declared egress (cgroup ${cgroup})`);
  const exited = new Promise<number>((resolve) => {
    child.once('error', (err) => {
      o.log(`cannot start ${o.command}: ${err.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
  const server = new ServerSide(child, o);
  const write = (m: Message): void => void o.output.write(JSON.stringify(m) + '\n');
  server.onNotification = write;
  const streamAbort = new AbortController();
  void agentStreams(endpoint, { ...auth, 'x-altrace-relay': relayId }, streamAbort.signal, write, o.log).finally(() => server.relayServerMessages(null));

  // The relay: what the chain let through, to the server; its answers, back to the proxy.
  let relayEnded: string | null = null;
  const relayDone = (async () => {
    try {
      for (let e = await events.next(); !e.done; e = await events.next()) {
        if (e.value.event === 'request') answerRelay(o, relayId, JSON.parse(e.value.data) as RelayRequest, server, relayAbort.signal).catch((err: Error) => o.log(`altrace mcp wrap: a relayed request failed: ${err.message}`));
        else if (e.value.event === 'message') relayEnded = describeEnd(e.value.data);
      }
      relayEnded ??= 'the proxy closed the relay';
    } catch (err) {
      if (!relayAbort.signal.aborted) relayEnded = `the relay failed: ${(err as Error).message}`;
    }
  })();

  // The client: each message through the chain.
  const clientDone = (async () => {
    const lines = createInterface({ input: o.input, crlfDelay: Infinity });
    let previous: Promise<void> = Promise.resolve();
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        write(errorFor(null, PARSE_ERROR, 'altrace mcp wrap: a line from the client is not JSON'));
        continue;
      }
      // The client's answers to the server's own requests: those are not failed if a stream ends early.
      for (const m of messagesOf(parsed)) if (isResponse(m) && (typeof m.id === 'string' || typeof m.id === 'number')) server.answered(m.id);
      const sending = sendThrough(endpoint, { ...auth, 'x-altrace-relay': relayId }, line, messagesOf(parsed), write);
      // Notifications and responses keep their order (initialized before the next request);
      // requests run side by side, as over HTTP.
      if (!messagesOf(parsed).some(isRequest)) {
        await previous;
        await sending;
      }
      previous = sending;
    }
    await previous;
  })();

  const code = await Promise.race([
    exited,
    clientDone.then(async () => {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGTERM'), 5_000);
      const c = await exited;
      clearTimeout(timer);
      return c;
    }),
    relayDone.then(() => {
      o.log(`altrace mcp wrap: ${relayEnded}; stopping ${o.command}`);
      child.kill('SIGTERM');
      return 1;
    }),
  ]);
  server.close();
  streamAbort.abort();
  relayAbort.abort();
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  return code;
}

/** The agent makes the cgroups of confined servers in an `altrace-mcp` directory of the cgroup2 tree. */
function isConfinementCgroup(path: string): boolean {
  return path.startsWith('/') && !path.split('/').includes('..') && path.split('/').at(-2) === 'altrace-mcp';
}

/** Exit status of the shell when the server could not join its cgroup (the wrap is not root on the agent's host). */
export const CONFINEMENT_FAILED = 126;

/**
 * Starts the server inside its cgroup: the shell moves itself there (writing 0 to cgroup.procs)
 * and only then execs the command, so the server and everything it starts are confined from
 * their first instruction. A shell that cannot move itself exits with CONFINEMENT_FAILED.
 */
function spawnConfined(cgroup: string, command: string, args: readonly string[]): ChildProcess {
  const script = `printf 0 > "$0/cgroup.procs" || { echo "altrace mcp wrap: cannot start the server in its cgroup $0: the wrap must run as root on the agent's host" >&2; exit ${CONFINEMENT_FAILED}; }; exec "$@"`;
  return spawn('/bin/sh', ['-c', script, cgroup, command, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}

interface RelayRequest {
  seq: number;
  method: string;
  body: string;
}

/** One request the proxy sent down the relay: to the server, and its answer back. */
async function answerRelay(o: WrapOptions, relayId: string, r: RelayRequest, server: ServerSide, stopped: AbortSignal): Promise<void> {
  let status = 202;
  let body = '';
  if (r.method === 'GET') return streamServerMessages(o, relayId, r.seq, server, stopped);
  if (r.method !== 'POST') {
    status = 405;
    body = JSON.stringify(errorFor(null, METHOD_NOT_FOUND, `a stdio server is reached by POST only, not ${r.method}`));
  } else {
    const parsed = JSON.parse(r.body) as unknown;
    const answers = await server.send(messagesOf(parsed));
    if (answers.length > 0) {
      status = 200;
      body = JSON.stringify(Array.isArray(parsed) ? answers : answers[0]);
    }
  }
  const url = `${o.proxyUrl.replace(/\/+$/, '')}/altrace/v1/mcp-relay/${relayId}/${r.seq}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-altrace-relay-status': String(status) }, body }).catch((err: Error) => err);
  if (res instanceof Error) o.log(`altrace mcp wrap: could not hand the server's answer to the proxy: ${res.message}`);
  else await res.body?.cancel();
}

/**
 * The relayed GET's answer: the server's own messages as an event stream, until ROTATE_MS have
 * passed (then it ends, and the agent's next GET brings the next one). A stream that ends any
 * other way (a response stage cut it, the relay closed) may have lost messages on the way: the
 * server's requests on it that the client has not answered are answered with an error, so the
 * server does not wait for ever.
 */
async function streamServerMessages(o: WrapOptions, relayId: string, seq: number, server: ServerSide, stopped: AbortSignal): Promise<void> {
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) }, new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }));
  const encoder = new TextEncoder();
  let rotated = false;
  server.relayServerMessages((m) => {
    if ((feed.desiredSize ?? 0) < -MAX_BUFFERED_BYTES) return false;
    feed.enqueue(encoder.encode(`data: ${JSON.stringify(m)}\n\n`));
    return true;
  });
  const rotation = setTimeout(() => {
    rotated = true;
    server.relayServerMessages('opening');
    feed.close();
  }, ROTATE_MS);
  rotation.unref();
  const url = `${o.proxyUrl.replace(/\/+$/, '')}/altrace/v1/mcp-relay/${relayId}/${seq}`;
  // undici's own fetch: its dispatcher option is this package's Agent (node's global fetch bundles another undici).
  // Ends with the wrap: an upload left open would keep the process alive after the server stopped.
  const res = await undiciFetch(url, { method: 'POST', headers: { 'content-type': 'text/event-stream', 'x-altrace-relay-status': '200' }, body, duplex: 'half', dispatcher: quietStreams, signal: stopped }).catch((err: Error) => err);
  clearTimeout(rotation);
  if (!rotated) {
    server.relayServerMessages('opening');
    server.failUnanswered('the stream of the server\'s messages to the client ended before this request reached it (altrace mcp wrap)');
    try {
      feed.close();
    } catch {
      // Already errored or closed with the request.
    }
  }
  if (res instanceof Error) {
    if (!stopped.aborted) o.log(`altrace mcp wrap: the stream of the server's own messages to the proxy ended: ${res.message}`);
  }
  else await res.body?.cancel();
}

/**
 * The agent's event streams, through the chain, one after another while the wrap runs: the
 * server's own messages as the response stages let them pass, to the client. Resolves when the
 * wrap stops, or after MAX_STREAM_FAILURES streams in a row were refused or failed.
 */
async function agentStreams(endpoint: string, headers: Record<string, string>, signal: AbortSignal, write: (m: Message) => void, log: (message: string) => void): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    const began = Date.now();
    const outcome = await agentStream(endpoint, headers, signal, write);
    if (signal.aborted) return;
    // A stream that ran its course (a rotation) is no failure; one refused or cut at once is.
    failures = outcome === 'ended' && Date.now() - began >= 1_000 ? 0 : failures + 1;
    if (failures >= MAX_STREAM_FAILURES) {
      log(`altrace mcp wrap: the stream of the server's own messages ${outcome === 'ended' ? 'kept ending' : outcome}; its requests are answered with an error from now on`);
      return;
    }
    if (failures > 0) await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** failures)));
  }
}

async function agentStream(endpoint: string, headers: Record<string, string>, signal: AbortSignal, write: (m: Message) => void): Promise<string> {
  try {
    const res = await undiciFetch(endpoint, { headers: { ...headers, accept: 'text/event-stream' }, signal, dispatcher: quietStreams });
    if (!res.ok || !res.body || !String(res.headers.get('content-type')).startsWith('text/event-stream')) return `was refused (${await refusalText(res as unknown as Response)})`;
    for await (const e of readSse(res.body as ReadableStream<Uint8Array>)) if (e.data !== '') for (const m of messagesOf(JSON.parse(e.data))) write(m);
    return 'ended';
  } catch (err) {
    return `failed (${(err as Error).message})`;
  }
}

/** Posts the client's message through the chain and writes what comes back to the client. */
async function sendThrough(endpoint: string, headers: Record<string, string>, line: string, messages: Message[], write: (m: Message) => void): Promise<void> {
  const requests = messages.filter(isRequest).map((m) => m.id as RpcId);
  let res: Response;
  try {
    res = await fetch(endpoint, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: line });
  } catch (err) {
    for (const id of requests) write(errorFor(id, INTERNAL_ERROR, `altrace mcp wrap: the proxy could not be reached: ${(err as Error).message}`));
    return;
  }
  const type = String(res.headers.get('content-type'));
  const delivered = new Set<string>();
  const deliver = (value: unknown): void => {
    for (const m of messagesOf(value)) {
      if (typeof m.id === 'string' || typeof m.id === 'number') delivered.add(idKey(m.id));
      write(m);
    }
  };
  if (type.startsWith('text/event-stream') && res.body) {
    for await (const e of readSse(res.body)) if (e.data !== '') deliver(JSON.parse(e.data));
  } else {
    const text = await res.text();
    if (text !== '') {
      try {
        deliver(JSON.parse(text));
      } catch {
        // Not JSON-RPC (an intermediary's page): the requests fail below with the status.
      }
    }
  }
  // A JSON-RPC request is answered exactly once, refused or not: the client's SDK waits otherwise.
  for (const id of requests) if (!delivered.has(idKey(id))) write(errorFor(id, INTERNAL_ERROR, `altrace mcp wrap: the proxy answered ${res.status} without a response to this request`));
}

/** The wrapped server's pipes: requests written, their answers matched by id. */
class ServerSide {
  readonly #waiting = new Map<string, { id: RpcId; resolve: (m: Message) => void }>();
  readonly #dropped = new Set<string>();
  onNotification: (m: Message) => void = () => {};
  #closed = false;
  /** Where the server's own messages go: the governed stream while one is open (false: it is full); queued while one opens; null: the fallback. */
  #toAgent: ((m: Message) => boolean) | 'opening' | null = 'opening';
  #queued: Message[] = [];
  /** The server's requests sent on a stream that the client has not answered yet. */
  readonly #unanswered = new Map<string, RpcId>();

  constructor(
    private readonly child: ChildProcess,
    private readonly o: WrapOptions,
  ) {
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => this.#fromServer(line));
    child.once('exit', () => this.close());
  }

  /** Writes the messages; resolves with the answers to those that are requests (none for notifications). */
  send(messages: Message[]): Promise<Message[]> {
    const answers = messages.filter(isRequest).map(
      (m) =>
        new Promise<Message>((resolve) => {
          if (this.#closed) return resolve(errorFor(m.id as RpcId, INTERNAL_ERROR, 'the MCP server has exited'));
          this.#waiting.set(idKey(m.id as RpcId), { id: m.id as RpcId, resolve });
        }),
    );
    for (const m of messages) this.child.stdin?.write(JSON.stringify(m) + '\n');
    return Promise.all(answers);
  }

  /** A stream of the server's messages opened (each message to `send`), is opening again ('opening'), or is gone for good (null: the fallback). */
  relayServerMessages(send: ((m: Message) => boolean) | 'opening' | null): void {
    if (send === this.#toAgent) return;
    this.#toAgent = send;
    if (send === 'opening') return;
    const queued = this.#queued;
    this.#queued = [];
    for (const m of queued) this.#serverMessage(m);
  }

  /** The client answered one of the server's requests. */
  answered(id: RpcId): void {
    this.#unanswered.delete(idKey(id));
  }

  /** A stream ended early: the server's requests it carried that the client has not answered are answered with an error. */
  failUnanswered(why: string): void {
    for (const id of this.#unanswered.values()) this.child.stdin?.write(JSON.stringify(errorFor(id, INTERNAL_ERROR, why)) + '\n');
    this.#unanswered.clear();
  }

  close(): void {
    this.#closed = true;
    for (const { id, resolve } of this.#waiting.values()) resolve(errorFor(id, INTERNAL_ERROR, 'the MCP server exited before answering'));
    this.#waiting.clear();
  }

  #fromServer(line: string): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.o.log('altrace mcp wrap: the server wrote a line that is not JSON-RPC to stdout; ignored');
      return;
    }
    for (const m of messagesOf(value)) {
      if (isResponse(m) && (typeof m.id === 'string' || typeof m.id === 'number')) {
        const waiting = this.#waiting.get(idKey(m.id));
        this.#waiting.delete(idKey(m.id));
        waiting?.resolve(m);
      } else this.#serverMessage(m);
    }
  }

  /** A message the server started itself: on the governed stream, queued while it opens, else the fallback. */
  #serverMessage(m: Message): void {
    if (typeof this.#toAgent === 'function' && this.#toAgent(m)) {
      if (isRequest(m)) this.#unanswered.set(idKey(m.id as RpcId), m.id as RpcId);
      return;
    }
    if (this.#toAgent === 'opening' && this.#queued.length < MAX_QUEUED) return void this.#queued.push(m);
    if (isRequest(m)) {
      // Sampling, elicitation, roots: without the governed stream they would reach the model or the user without the chain.
      this.child.stdin?.write(JSON.stringify(errorFor(m.id as RpcId, METHOD_NOT_FOUND, `altrace mcp wrap does not relay server requests (${String(m.method)}) without the proxy's stream of them`)) + '\n');
    } else if (typeof m.method === 'string' && PASSED_NOTIFICATIONS.has(m.method)) {
      const params = m.params && typeof m.params === 'object' ? { ...(m.params as Message) } : undefined;
      if (params && m.method === 'notifications/progress') delete params.message;
      this.onNotification(params ? { ...m, params } : m);
    } else if (typeof m.method === 'string' && !this.#dropped.has(m.method)) {
      this.#dropped.add(m.method);
      this.o.log(`altrace mcp wrap: the server's ${m.method} notifications are not passed on (they would not pass the chain)`);
    }
  }
}

/** What the proxy said when it refused the relay: its JSON-RPC error's message and Altrace reason, or the status. */
async function refusalText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: string; data?: { altrace?: { reason?: string; hint?: string } } } };
    const a = body.error?.data?.altrace;
    const message = body.error?.message;
    if (message) return `${res.status} ${a?.reason ? `${a.reason}: ` : ''}${message}${a?.hint && !message.includes(a.hint) ? ` — ${a.hint}` : ''}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return `${res.status} ${res.statusText}`;
}

/** Why the proxy ended the relay: the reason its in-stream error names. */
function describeEnd(data: string): string {
  try {
    const m = JSON.parse(data) as { params?: { data?: { message?: string; altrace?: { reason?: string } } } };
    const d = m.params?.data;
    if (d?.altrace?.reason) return `the proxy ended the relay: ${d.altrace.reason} (${d.message ?? ''})`;
  } catch {
    // Fall through.
  }
  return 'the proxy ended the relay';
}
