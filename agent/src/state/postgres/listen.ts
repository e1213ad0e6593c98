// LISTEN for the change log on a connection of its own, kept up across server restarts: a
// replica or node that lost the connection learns, on reconnecting, the version it missed.
import { Client } from 'pg';
import { CHANGES_CHANNEL, readHead } from './changes.js';
import { unreachable } from './pool.js';

export interface ChangeListener {
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Called with why the connection was lost or a reconnect failed (it keeps retrying). */
  onError?: (err: Error) => void;
  /** First retry delay; doubles up to maxRetryMs (defaults 50 and 1000 ms). */
  retryMs?: number;
  maxRetryMs?: number;
  connectTimeoutMs?: number;
}

/**
 * Calls `onVersion(v)` whenever the log has reached version v: on every NOTIFY, and with the
 * head version each time the connection is (re)established, so a change committed while it
 * was down is not missed. Versions can repeat and arrive out of order; a consumer keeps the
 * highest it has applied and reads changesSince() that one. Resolves once it first listens;
 * rejects, naming the URL without its password, when that first connection fails.
 */
export async function listenForChanges(url: string, onVersion: (version: number) => void, options: ListenOptions = {}): Promise<ChangeListener> {
  return keepListening(url, CHANGES_CHANNEL, (payload) => onVersion(Number(payload)), async (c) => String(await readHead(c)), options);
}

/**
 * Calls `onPayload` with every NOTIFY payload on `channel`, kept up across server restarts like
 * listenForChanges; what was sent while the connection was down is lost (for messages that are
 * worth little once late: the fleet's run events).
 */
export async function listenForPayloads(url: string, channel: string, onPayload: (payload: string) => void, options: ListenOptions = {}): Promise<ChangeListener> {
  return keepListening(url, channel, onPayload, async () => null, options);
}

/**
 * LISTEN on a connection of its own. Each time it is (re)established, `onConnected` may read
 * what the payloads would have said meanwhile; what it returns is delivered like a payload.
 */
async function keepListening(url: string, channel: string, onPayload: (payload: string) => void, onConnected: (c: Client) => Promise<string | null>, options: ListenOptions): Promise<ChangeListener> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  const baseRetry = options.retryMs ?? 50;
  const maxRetry = options.maxRetryMs ?? 1000;
  let closed = false;
  let client: Client | null = null;
  let retry = baseRetry;
  let timer: NodeJS.Timeout | null = null;
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));
  const deliver = (payload: string) => {
    try {
      onPayload(payload);
    } catch (err) {
      report(err);
    }
  };

  const connect = async (): Promise<void> => {
    const c = new Client({ connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs ?? 5000, keepAlive: true });
    // Until it listens, a failure rejects connect() (and is retried); an 'error' event without a
    // listener would end the process instead.
    c.on('error', () => {});
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (err) report(err);
      c.end().catch(() => {});
      if (client === c) client = null;
      schedule();
    };
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload !== undefined) deliver(n.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      const missed = await onConnected(c);
      if (closed) {
        await c.end();
        return;
      }
      c.on('error', onLost);
      c.on('end', () => onLost());
      client = c;
      retry = baseRetry;
      if (missed !== null) deliver(missed);
    } catch (err) {
      c.end().catch(() => {});
      throw err;
    }
  };

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      connect().catch((err: unknown) => {
        report(err);
        retry = Math.min(retry * 2, maxRetry);
        schedule();
      });
    }, retry);
  };

  try {
    await connect();
  } catch (err) {
    throw unreachable(url, err);
  }
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
