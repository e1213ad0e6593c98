// The node's HTTP/2 client to its control plane: one TLS session per call or stream, trusting
// only the fleet CA, presenting the node's certificate once it has one.
import { connect, type ClientHttp2Session } from 'node:http2';

export interface FleetTls {
  ca: string;
  key?: string;
  cert?: string;
}

const CALL_TIMEOUT_MS = 10_000;
const MAX_REPLY_BYTES = 1 << 20;

export function openSession(url: URL, tls: FleetTls): ClientHttp2Session {
  const session = connect(url.origin, { ca: tls.ca, key: tls.key, cert: tls.cert, minVersion: 'TLSv1.3' });
  // Failures surface on the request (and its promise); the session's own error must not end the process.
  session.on('error', () => {});
  return session;
}

/** POSTs JSON and reads the JSON reply; rejects on a network or TLS failure or after 10 s. */
export function fleetPost(url: URL, path: string, body: unknown, tls: FleetTls, bearer: string | null): Promise<{ status: number; body: unknown }> {
  const session = openSession(url, tls);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no reply within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.once('error', fail);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) });
    req.on('error', fail);
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REPLY_BYTES) return fail(new Error('the reply is larger than 1 MiB'));
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve({ status, body: text ? JSON.parse(text) : null });
      } catch {
        reject(new Error(`the control plane answered ${status} with a body that is not JSON`));
      }
    });
    req.end(JSON.stringify(body));
  });
}
