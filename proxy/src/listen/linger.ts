import type { Socket } from 'node:net';

/**
 * A refusal sent while the client is still sending (a body over limits.max_body_bytes) must
 * reach it. Closing at once, as Node does after a `connection: close` reply, leaves the
 * client's unsent bytes arriving at a closed socket: the kernel answers them with a reset,
 * and a reset that overtakes the reply makes the client's HTTP stack drop the reply unread
 * (measured: 7 of 10 fetch clients saw a connection error instead of the 413). So, as nginx
 * does (lingering_close), the write side closes and the rest of the body is read and
 * discarded, up to `maxBytes` or `ms`, before the socket is destroyed.
 */
export function lingerBeforeClose(socket: Socket | null | undefined, ms: number, maxBytes: number): void {
  if (!socket || socket.destroyed) return;
  const s = socket as Socket & { destroySoon?: () => void };
  s.destroySoon = () => {
    if (s.writable) s.end();
    let read = 0;
    const done = () => {
      clearTimeout(timer);
      s.off('data', count);
      s.destroy();
    };
    const count = (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes) done();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    s.on('data', count);
    s.once('end', done);
    s.once('close', () => clearTimeout(timer));
    s.resume();
  };
}
