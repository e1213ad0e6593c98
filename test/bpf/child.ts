// The process the BPF tests move into a cgroup: it makes the connections and datagrams the
// programs judge, on command, and reports what the kernel answered. One JSON object a line
// on stdin ({ id, op, ... }), one answer a line on stdout ({ id, ok, ... }).
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

process.title = 'alt-bpf-child';

type Command =
  | { id: number; op: 'connect'; host: string; port: number; hold?: boolean }
  | { id: number; op: 'watch'; conn: number }
  | { id: number; op: 'close'; conn: number }
  | { id: number; op: 'alive'; conn: number }
  | { id: number; op: 'udp'; host: string; port: number; connected?: boolean; twice?: boolean }
  | { id: number; op: 'chat'; baseURL: string; apiKey: string }
  | { id: number; op: 'connect-until-refused'; host: string; port: number; limitMs: number; attemptMs: number }
  | { id: number; op: 'connect-bench'; host: string; port: number; n: number }
  | { id: number; op: 'udp-flood'; host: string; port: number; n: number }
  | { id: number; op: 'resolve'; server: string; name: string };

const held = new Map<number, { socket: Socket; ended: Promise<string | null>; closedAtNs: Promise<bigint> }>();
const reply = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const code = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code ?? null;

function doConnect(cmd: Extract<Command, { op: 'connect' }>): void {
  const socket = connect({ host: cmd.host, port: cmd.port });
  const ended = new Promise<string | null>((resolve) => {
    socket.once('error', (err) => resolve(code(err)));
    socket.once('close', () => resolve(null));
  });
  const closedAtNs = ended.then(() => process.hrtime.bigint());
  let connected = false;
  socket.on('error', (err) => {
    if (!connected) reply({ id: cmd.id, ok: false, code: code(err) });
  });
  socket.once('connect', () => {
    connected = true;
    reply({
      id: cmd.id,
      ok: true,
      local: { address: socket.localAddress, port: socket.localPort },
      // remoteAddress comes from getpeername(2): the cgroup/getpeername programs answer it.
      remote: { address: socket.remoteAddress, port: socket.remotePort },
    });
    if (cmd.hold) held.set(cmd.id, { socket, ended, closedAtNs });
    else socket.end();
  });
}

function doUdp(cmd: Extract<Command, { op: 'udp' }>): void {
  const socket = createSocket(cmd.host.includes(':') ? 'udp6' : 'udp4');
  let answered = false;
  const done = (err: unknown) => {
    if (answered) return;
    answered = true;
    reply({ id: cmd.id, ok: !err, code: code(err) });
    socket.close();
  };
  socket.on('error', done);
  // A failed connect hands its error to the callback (dgram's doConnect), not to 'error'.
  // twice: a rejection on the wire (ICMP) reaches a connected socket as the error of its next send.
  const sendOnce = () => socket.send('x', (e) => (e || !cmd.twice ? done(e) : setTimeout(() => !answered && socket.send('x', (e2) => done(e2)), 100)));
  const afterConnect = (err?: Error) => (err ? done(err) : sendOnce());
  if (cmd.connected) socket.connect(cmd.port, cmd.host, afterConnect as () => void);
  else socket.send('x', cmd.port, cmd.host, (err) => done(err));
}

/** A chat completion with the OpenAI SDK, pointed straight at the provider's address. */
async function doChat(cmd: Extract<Command, { op: 'chat' }>): Promise<void> {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL: cmd.baseURL, apiKey: cmd.apiKey, maxRetries: 0 });
  try {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from the pod' }] });
    reply({ id: cmd.id, ok: true, content: r.choices[0]?.message.content ?? null });
  } catch (err) {
    reply({ id: cmd.id, ok: false, code: (err as { status?: number }).status ? String((err as { status: number }).status) : code(err), message: (err as Error).message });
  }
}

/**
 * Connects again and again until the kernel refuses: reports when (CLOCK_MONOTONIC, the clock
 * process.hrtime reads in every process) the first refused attempt began and the last
 * accepted one began, so a test can place the kill between them.
 */
async function doConnectUntilRefused(cmd: Extract<Command, { op: 'connect-until-refused' }>): Promise<void> {
  const deadline = process.hrtime.bigint() + BigInt(cmd.limitMs) * 1_000_000n;
  let lastAcceptedNs: bigint | null = null;
  let attempts = 0;
  while (process.hrtime.bigint() < deadline) {
    attempts++;
    const startedNs = process.hrtime.bigint();
    const result = await new Promise<string | null>((resolve) => {
      const s = connect({ host: cmd.host, port: cmd.port });
      // A SYN that nothing answers (dropped, not refused) would hang here for minutes: that is
      // an answer too, and the test must hear it rather than a silent child.
      const hung = setTimeout(() => {
        s.destroy();
        resolve('ETIMEDOUT');
      }, cmd.attemptMs);
      s.once('connect', () => {
        clearTimeout(hung);
        s.destroy();
        resolve(null);
      });
      s.once('error', (err) => {
        clearTimeout(hung);
        resolve(code(err));
      });
    });
    if (result === null) lastAcceptedNs = startedNs;
    // An attempt already through when the kill landed is torn down by the teardown pass, not refused: go on.
    else if (result === 'ECONNABORTED' || result === 'ECONNRESET') continue;
    else {
      reply({ id: cmd.id, ok: true, code: result, refusedAtNs: String(startedNs), lastAcceptedNs: lastAcceptedNs === null ? null : String(lastAcceptedNs), attempts });
      return;
    }
  }
  reply({ id: cmd.id, ok: false, code: 'NOT_REFUSED', attempts });
}

/** n connects one after another (each closed once connected): mean nanoseconds per connect. */
async function doConnectBench(cmd: Extract<Command, { op: 'connect-bench' }>): Promise<void> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cmd.n; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: cmd.host, port: cmd.port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  }
  reply({ id: cmd.id, ok: true, nsPerConnect: String((process.hrtime.bigint() - t0) / BigInt(cmd.n)) });
}

/** n datagrams as fast as they go, 1,000 in flight at a time: how many the kernel refused. */
async function doUdpFlood(cmd: Extract<Command, { op: 'udp-flood' }>): Promise<void> {
  const socket = createSocket('udp4');
  socket.on('error', () => {});
  let refused = 0;
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < cmd.n; sent += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, cmd.n - sent) }, () => new Promise<void>((resolve) => socket.send('x', cmd.port, cmd.host, (err) => ((refused += err ? 1 : 0), resolve())))));
  }
  socket.close();
  reply({ id: cmd.id, ok: true, refused, elapsedNs: String(process.hrtime.bigint() - t0) });
}

/** An A lookup asked of one server (the pod's resolver), as an agent's own lookup would be. */
async function doResolve(cmd: Extract<Command, { op: 'resolve' }>): Promise<void> {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([cmd.server]);
  try {
    reply({ id: cmd.id, ok: true, addresses: await resolver.resolve4(cmd.name) });
  } catch (err) {
    reply({ id: cmd.id, ok: false, code: code(err) });
  }
}

reply({ id: 0, ok: true, ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as Command;
  if (cmd.op === 'connect') doConnect(cmd);
  else if (cmd.op === 'udp') doUdp(cmd);
  else if (cmd.op === 'chat') void doChat(cmd);
  else if (cmd.op === 'connect-until-refused') void doConnectUntilRefused(cmd);
  else if (cmd.op === 'connect-bench') void doConnectBench(cmd);
  else if (cmd.op === 'udp-flood') void doUdpFlood(cmd);
  else if (cmd.op === 'resolve') void doResolve(cmd);
  else if (cmd.op === 'watch') {
    const h = held.get(cmd.conn);
    void h?.ended.then(async (c) => reply({ id: cmd.id, ok: true, code: c, closedAtNs: String(await h.closedAtNs) }));
  }
  else if (cmd.op === 'alive') reply({ id: cmd.id, ok: true, alive: held.get(cmd.conn)?.socket.readyState === 'open' });
  else if (cmd.op === 'close') {
    held.get(cmd.conn)?.socket.destroy();
    reply({ id: cmd.id, ok: true });
  }
}
