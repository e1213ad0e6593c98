import test from 'ava';
import { Worker } from 'node:worker_threads';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { native, originalDestination } from '../../agent/src/native.js';

test('the addon loads and validates in JS before C++ sees anything', (t) => {
  t.is(native().abiVersion, 1);
  t.throws(() => originalDestination(-1), { instanceOf: TypeError, message: /fd must be a non-negative integer/ });
});

test('originalDestination is null for a connection that was not redirected', async (t) => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [sock] = (await accepted) as [{ _handle: { fd: number } }];
  t.is(originalDestination(sock._handle.fd), null);
  client.destroy();
  server.close();
});

test('the addon loads inside a worker thread', async (t) => {
  const url = new URL('../../agent/src/native.js', import.meta.url).href;
  const w = new Worker(`import(${JSON.stringify(url)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.native().abiVersion))`, { eval: true });
  const [msg] = await once(w, 'message');
  t.is(msg, 1);
  await w.terminate();
});
