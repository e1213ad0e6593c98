// The baseline: a bare Node pass-through proxy (no governance) in front of the same upstream.
import { createServer } from 'node:http';
import { Agent, request } from 'undici';

const upstream = process.argv[2]!;
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const up = await request(upstream + req.url, { method: req.method as 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks), dispatcher });
  res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
  for await (const c of up.body) res.write(c);
  res.end();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n'));
