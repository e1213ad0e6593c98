// The process the BPF tests move into a cgroup: it makes the connections and datagrams the
// programs judge, on command, and reports what the kernel answered. One JSON object a line
// on stdin ({ id, op, ... }), one answer a line on stdout ({ id, ok, ... }).
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

process.title = 'alt-bpf-child';

type Command =
  | { id: number; op: 'connect'; host: string; port: number; hold?: boolean }
  | { id: number; op: 'watch'; conn: number }
  | { id: number; op: 'close'; conn: number }
  | { id: number; op: 'alive'; conn: number }
  | { id: number; op: 'udp'; host: string; port: number; connected?: boolean };

const held = new Map<number, { socket: Socket; ended: Promise<string | null> }>();
const reply = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const code = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code ?? null;

function doConnect(cmd: Extract<Command, { op: 'connect' }>): void {
  const socket = connect({ host: cmd.host, port: cmd.port });
  const ended = new Promise<string | null>((resolve) => {
    socket.once('error', (err) => resolve(code(err)));
    socket.once('close', () => resolve(null));
  });
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
    if (cmd.hold) held.set(cmd.id, { socket, ended });
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
  const afterConnect = (err?: Error) => (err ? done(err) : socket.send('x', (e) => done(e)));
  if (cmd.connected) socket.connect(cmd.port, cmd.host, afterConnect as () => void);
  else socket.send('x', cmd.port, cmd.host, (err) => done(err));
}

reply({ id: 0, ok: true, ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as Command;
  if (cmd.op === 'connect') doConnect(cmd);
  else if (cmd.op === 'udp') doUdp(cmd);
  else if (cmd.op === 'watch') void held.get(cmd.conn)?.ended.then((c) => reply({ id: cmd.id, ok: true, code: c }));
  else if (cmd.op === 'alive') reply({ id: cmd.id, ok: true, alive: held.get(cmd.conn)?.socket.readyState === 'open' });
  else if (cmd.op === 'close') {
    held.get(cmd.conn)?.socket.destroy();
    reply({ id: cmd.id, ok: true });
  }
}
