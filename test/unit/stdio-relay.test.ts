import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { upstreamFailureReason } from '../../proxy/src/upstream/failure.js';
import { callUpstream } from '../../proxy/src/upstream/call.js';
import { UpstreamCancel } from '../../proxy/src/pipeline/exchange.js';
import { RELAY_REPLY_PATH, StdioRelays, type StdioRelay } from '../../proxy/src/upstream/stdio-relay.js';
import { readSse } from '../../agent/src/mcp/sse-lines.js';

/** A proxy-side relay registry behind a real HTTP server, and a wrap-side client of it. */
async function rig(timeoutMs = 5_000, maxBytes = 1024) {
  const relays = new StdioRelays(timeoutMs);
  let opened!: (r: StdioRelay) => void;
  const relay = new Promise<StdioRelay>((resolve) => (opened = resolve));
  const server: Server = createServer(async (req, res) => {
    if (req.url!.startsWith(RELAY_REPLY_PATH)) return void relays.reply(req, res, maxBytes);
    const prepared = await relays.prepare('notes');
    if ('refused' in prepared) throw new Error(prepared.refused);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    opened(relays.open(prepared, 'notes', 'key-1', 'notes-bot', res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const abort = new AbortController();
  const stream = await fetch(`${base}/mcp/notes`, { signal: abort.signal });
  const events = readSse(stream.body!)[Symbol.asyncIterator]();
  const first = await events.next();
  const r = await relay;
  const call = (body: string, cancel = new UpstreamCancel()) =>
    callUpstream(r.dispatcher, { origin: 'http://stdio-relay.altrace.invalid', path: '/', method: 'POST', headers: {}, body: Buffer.from(body), streamTypes: /^text\/event-stream/, maxWholeBytes: 1 << 20 }, cancel);
  const answer = (seq: number, body: string, headers: Record<string, string> = {}) => fetch(`${base}${RELAY_REPLY_PATH}${r.id}/${seq}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return {
    relays,
    relay: r,
    first: first.value!,
    next: async () => (await events.next()).value!,
    call,
    answer,
    base,
    close: async () => {
      abort.abort();
      relays.closeAll();
      server.closeAllConnections();
      await new Promise((res) => server.close(res));
    },
  };
}

test('a request goes down the relay as an event and the posted answer is the upstream reply', async (t) => {
  const r = await rig();
  try {
    t.is(r.first.event, 'relay');
    t.deepEqual(JSON.parse(r.first.data), { id: r.relay.id, server: 'notes' });
    t.regex(r.relay.id, /^[0-9a-f]{32}$/);
    const reply = r.call('{"jsonrpc":"2.0","id":7,"method":"tools/list"}');
    const sent = await r.next();
    t.is(sent.event, 'request');
    t.deepEqual(JSON.parse(sent.data), { seq: 1, method: 'POST', body: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}' });
    t.is((await r.answer(1, '{"jsonrpc":"2.0","id":7,"result":{"tools":[]}}')).status, 204);
    const got = await reply;
    t.is(got.statusCode, 200);
    t.is(got.kind === 'whole' && got.bytes.toString(), '{"jsonrpc":"2.0","id":7,"result":{"tools":[]}}');
    t.is((await r.answer(1, '{}')).status, 404, 'answered once');
    // A notification's answer: 202, no body.
    const note = r.call('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    await r.next();
    await r.answer(2, '', { 'x-altrace-relay-status': '202' });
    t.is((await note).statusCode, 202);
  } finally {
    await r.close();
  }
});

test('the relay ending fails what waits on it as a reset; an unanswered request times out; both map to their reasons', async (t) => {
  const slow = await rig(200);
  try {
    const err = await t.throwsAsync(slow.call('{"jsonrpc":"2.0","id":1,"method":"ping"}'));
    t.is(upstreamFailureReason(err), 'ALT_UPSTREAM_TIMEOUT');
  } finally {
    await slow.close();
  }
  const r = await rig();
  const waiting = r.call('{"jsonrpc":"2.0","id":1,"method":"ping"}');
  await r.next();
  r.relay.close();
  const err = await t.throwsAsync(waiting);
  t.is(upstreamFailureReason(err), 'ALT_UPSTREAM_RESET');
  t.is(r.relays.size, 0);
  const after = await t.throwsAsync(r.call('{"jsonrpc":"2.0","id":2,"method":"ping"}'));
  t.regex(after!.message, /has closed/);
  await r.close();
});

test('an answer over the size limit fails its request as too large; malformed answer paths are refused', async (t) => {
  const r = await rig(5_000, 64);
  try {
    const waiting = r.call('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    await r.next();
    t.is((await r.answer(1, JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(500) } }))).status, 413);
    t.is(upstreamFailureReason(await t.throwsAsync(waiting)), 'ALT_RESPONSE_TOO_LARGE');
    for (const path of [`${r.relay.id}`, `${r.relay.id}/0`, `${r.relay.id}/x`, `${r.relay.id}/1/2`]) {
      t.is((await fetch(`${r.base}${RELAY_REPLY_PATH}${path}`, { method: 'POST', body: '{}' })).status, 400, path);
    }
    t.is((await r.answer(1, '{}', { 'x-altrace-relay-status': '99' })).status, 400);
  } finally {
    await r.close();
  }
});

test('a request the proxy cancels (the client went, a kill) stops waiting, and its late answer is not taken', async (t) => {
  const r = await rig();
  try {
    const cancel = new UpstreamCancel();
    const waiting = r.call('{"jsonrpc":"2.0","id":1,"method":"tools/call"}', cancel);
    await r.next();
    cancel.cancel();
    t.is(((await t.throwsAsync(waiting)) as Error & { code: string }).code, 'UND_ERR_ABORTED');
    t.is((await r.answer(1, '{"jsonrpc":"2.0","id":1,"result":{}}')).status, 404);
  } finally {
    await r.close();
  }
});

test('a relay is found only by its id, for its server, with the key that opened it', async (t) => {
  const r = await rig();
  try {
    t.is(r.relays.find(r.relay.id, 'notes', 'key-1'), r.relay);
    t.is(r.relays.find(r.relay.id, 'notes', 'key-2'), null);
    t.is(r.relays.find(r.relay.id, 'other', 'key-1'), null);
    t.is(r.relays.find('0'.repeat(32), 'notes', 'key-1'), null);
    t.is(r.relays.find(undefined, 'notes', 'key-1'), null);
  } finally {
    await r.close();
  }
});

test('a GET answered with an event stream is taken chunk by chunk as the wrap sends it; a relay that closes ends it as a reset', async (t) => {
  const r = await rig();
  try {
    const get = (cancel = new UpstreamCancel()) =>
      callUpstream(r.relay.dispatcher, { origin: 'http://stdio-relay.altrace.invalid', path: '/', method: 'GET', headers: {}, body: null, streamTypes: /^text\/event-stream/, maxWholeBytes: 1 << 20 }, cancel);
    const reply = get();
    const sent = await r.next();
    t.deepEqual(JSON.parse(sent.data), { seq: 1, method: 'GET', body: '' });
    // The wrap's streaming answer: a body it keeps writing to.
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
    const posted = fetch(`${r.base}${RELAY_REPLY_PATH}${r.relay.id}/1`, { method: 'POST', headers: { 'content-type': 'text/event-stream' }, body, duplex: 'half' } as RequestInit);
    feed.enqueue(new TextEncoder().encode('data: {"jsonrpc":"2.0","id":"s1","method":"sampling/createMessage"}\n\n'));
    const got = await reply;
    t.is(got.kind, 'stream');
    if (got.kind !== 'stream') return;
    const chunks: string[] = [];
    const ended = new Promise<string | null>((resolve) => {
      got.body.on('data', (c: Buffer) => chunks.push(c.toString()));
      got.body.on('end', () => resolve(null));
      got.body.on('error', (err) => resolve(upstreamFailureReason(err)));
    });
    // Arrives while the wrap's request is still open: taken as it comes, not when the body ends.
    for (let i = 0; i < 50 && chunks.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    t.regex(chunks.join(''), /sampling\/createMessage/);
    feed.enqueue(new TextEncoder().encode('data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\n\n'));
    for (let i = 0; i < 50 && !chunks.join('').includes('list_changed'); i++) await new Promise((res) => setTimeout(res, 10));
    t.regex(chunks.join(''), /list_changed/);
    r.relay.close();
    t.is(await ended, 'ALT_UPSTREAM_RESET', 'the relay closed under it: a reset, as a server that went');
    await posted.catch(() => null);
  } finally {
    await r.close();
  }
});

test('a streamed answer that ends is the end of the upstream stream, and the wrap\'s POST is answered then', async (t) => {
  const r = await rig();
  try {
    const reply = callUpstream(r.relay.dispatcher, { origin: 'http://stdio-relay.altrace.invalid', path: '/', method: 'GET', headers: {}, body: null, streamTypes: /^text\/event-stream/, maxWholeBytes: 1 << 20 }, new UpstreamCancel());
    await r.next();
    const posted = await fetch(`${r.base}${RELAY_REPLY_PATH}${r.relay.id}/1`, { method: 'POST', headers: { 'content-type': 'text/event-stream' }, body: 'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}\n\n' });
    t.is(posted.status, 204);
    const got = await reply;
    if (got.kind !== 'stream') return t.fail(got.kind);
    let text = '';
    for await (const c of got.body) text += c;
    t.regex(text, /notifications\/progress/);
    t.is((await fetch(`${r.base}${RELAY_REPLY_PATH}${r.relay.id}/1`, { method: 'POST', headers: { 'content-type': 'text/event-stream' }, body: 'data: {}\n\n' })).status, 404, 'answered already');
  } finally {
    await r.close();
  }
});
