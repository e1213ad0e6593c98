// The baseline: a bare Node pass-through proxy (no governance) in front of the same upstream.
// `node bare-proxy.js UPSTREAM [LOOPS]`: with LOOPS > 1, as many event loops (the main thread and
// worker threads) share the port with reusePort, as the agent's listen.loops does — the ceiling
// that several loops can reach on this machine with no governance at all.
import { createServer } from 'node:http';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';

const upstream: string = isMainThread ? process.argv[2]! : (workerData as { upstream: string }).upstream;
const loops = isMainThread ? Number(process.argv[3] ?? 1) : 1;
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const up = await request(upstream + req.url, { method: req.method as 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks), dispatcher });
  res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
  for await (const c of up.body) res.write(c);
  res.end();
});
const port = isMainThread ? 0 : (workerData as { port: number }).port;
server.listen({ port, host: '127.0.0.1', reusePort: loops > 1 || !isMainThread }, () => {
  if (!isMainThread) return;
  const bound = (server.address() as { port: number }).port;
  for (let i = 1; i < loops; i++) new Worker(new URL(import.meta.url), { workerData: { upstream, port: bound } });
  process.stdout.write(JSON.stringify({ port: bound }) + '\n');
});
