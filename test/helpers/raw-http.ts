import { connect } from 'node:net';
import { patience } from './patience.js';

export interface RawReply {
  /** The status of the first response on the connection; null when the server sent nothing. */
  status: number | null;
  headers: Record<string, string>;
  /** The first response's body as JSON; null when empty, undefined when it is not JSON (or more than one response followed). */
  body: any;
  /** Every byte the server sent, as latin1 text. */
  text: string;
  /** From connect to the server closing the connection. */
  ms: number;
}

/**
 * Sends `data` on a fresh connection (all at once, or a byte every `trickleMs`) and reads until
 * the server closes it: what a client that speaks HTTP by hand sees, bytes after a reply included.
 */
export function raw(port: number, data: string, trickleMs = 0): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => (socket.destroy(), reject(new Error(`the server did not close the connection within ${patience(20_000)} ms`))), patience(20_000));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(guard);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const bodyText = rest.join('\r\n\r\n');
      resolve({ status: statusLine ? Number(statusLine.split(' ')[1]) : null, headers, body: bodyText ? jsonOrUndefined(bodyText) : null, text, ms: Date.now() - started });
    });
    if (trickleMs === 0) {
      if (data) socket.write(data);
      return;
    }
    let at = 0;
    timer = setInterval(() => {
      if (at < data.length && socket.writable) socket.write(data[at++]!);
    }, trickleMs);
  });
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How many HTTP responses `text` holds (status lines at the start of a response). */
export function responseCount(text: string): number {
  return text.match(/(^|\r\n)HTTP\/1\.[01] \d{3} /g)?.length ?? 0;
}
