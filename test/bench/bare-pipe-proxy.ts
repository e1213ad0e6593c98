// The baseline of the outside latency bench (issue 25): a bare Node pass-through, http.request
// and pipe, keep-alive, no governance — what a fragment's way costs with nothing in it.
import { Agent, createServer, request } from 'node:http';

const upstream = new URL(process.argv[2]!);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const server = createServer((req, res) => {
  const up = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n'));
