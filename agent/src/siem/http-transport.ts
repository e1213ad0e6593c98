// OCSF events (a JSON array per batch) or OTLP logs POSTed over HTTPS: a 2xx is the receiver's
// acknowledgement of the whole batch; anything else, or no answer, and the batch goes again.
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import type { AuditRecord } from '../audit/records.js';
import type { Origin } from './formats.js';
import { ocsfEvent } from './ocsf.js';
import { otlpLogs } from './otlp-logs.js';
import type { SinkConfig, Transport } from './shipper.js';

const TIMEOUT_MS = 30_000;

export class HttpTransport implements Transport {
  readonly acknowledges = true;
  readonly #dispatcher: Agent;

  constructor(
    private readonly sink: SinkConfig,
    private readonly origin: Origin,
  ) {
    this.#dispatcher = new Agent({ connect: { ...(sink.ca_file ? { ca: readFileSync(sink.ca_file, 'utf8') } : {}), ...(sink.server_name ? { servername: sink.server_name } : {}) }, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  }

  up(): boolean {
    return true;
  }

  onDrop(): void {}

  async send(records: AuditRecord[]): Promise<void> {
    const body = this.sink.type === 'otlp' ? otlpLogs(records, this.origin) : records.map((r) => ocsfEvent(r, this.origin));
    const token = this.sink.token_file ? readFileSync(this.sink.token_file, 'utf8').trim() : null;
    const res = await fetch(this.sink.url!, {
      method: 'POST',
      dispatcher: this.#dispatcher,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.sink.url} answered ${res.status}: ${text.slice(0, 200)}`);
  }

  close(): void {
    void this.#dispatcher.close().catch(() => {});
  }
}
