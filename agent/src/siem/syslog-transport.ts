// Syslog over TLS (RFC 5425) or TCP (RFC 6587): RFC 5424 or CEF messages, octet-counted, on one
// connection opened when a batch is sent and kept; a receiver that hangs up is dialled again.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { AuditRecord } from '../audit/records.js';
import { cef, octetCounted, rfc5424, type Origin } from './formats.js';
import type { SinkConfig, Transport } from './shipper.js';

export class SyslogTransport implements Transport {
  readonly acknowledges = false;
  #socket: Socket | TLSSocket | null = null;
  #dropped: (() => void)[] = [];

  constructor(
    private readonly sink: SinkConfig,
    private readonly origin: Origin,
  ) {}

  onDrop(listener: () => void): void {
    this.#dropped.push(listener);
  }

  up(): boolean {
    return this.#socket !== null && !this.#socket.destroyed;
  }

  async send(records: AuditRecord[]): Promise<void> {
    const socket = await this.#connection();
    const payload = records.map((r) => octetCounted(this.sink.format === 'cef' ? cef(r, this.origin) : rfc5424(r, this.origin))).join('');
    try {
      await new Promise<void>((resolve, reject) => socket.write(payload, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  close(): void {
    this.#socket?.destroy();
  }

  async #connection(): Promise<Socket | TLSSocket> {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const [host, port] = splitAddress(this.sink.address!);
    const socket = this.sink.tls
      ? tlsConnect({ host, port, servername: this.sink.server_name ?? host, ...(this.sink.ca_file ? { ca: readFileSync(this.sink.ca_file, 'utf8') } : {}), minVersion: 'TLSv1.2' })
      : tcpConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once(this.sink.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => socket.destroy());
    // The receiver hanging up: what was not confirmed is sent again on the next connection.
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      for (const l of this.#dropped) l();
    });
    socket.resume();
    this.#socket = socket;
    return socket;
  }
}

function splitAddress(address: string): [string, number] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`a SIEM sink address is host:port, not ${address}`);
  return [m[1]!, Number(m[2])];
}
