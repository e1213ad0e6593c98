// Provider credentials from HashiCorp Vault's KV version 2 secrets engine, over its HTTP API:
// every secret under <mount>/<prefix> (LIST <mount>/metadata/<prefix> as GET ?list=true, then GET
// <mount>/data/<prefix>/<name>) is the credential of the upstream it is named for (`openai`, or
// `openai@payments` for a team's own key), holding `api_key` (or `access_key_id`,
// `secret_access_key`, `session_token`). Read at start and again every `refresh_s` — sooner when
// Vault gives the secret a lease — so a secret rotated in Vault is used from the next request; a
// read that fails keeps the last good credentials and says why.
import { readFileSync } from 'node:fs';

export interface VaultOptions {
  address: string;
  /** The token: from token_file (re-read each time: an agent sidecar rewrites it), else VAULT_TOKEN. */
  token: () => string | undefined;
  mount: string;
  prefix: string;
  refreshMs: number;
  onChange: () => void;
  onError: (message: string) => void;
}

type Entries = Record<string, Record<string, string>>;

class VaultError extends Error {}

export class VaultCredentials {
  #entries: Entries = {};
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(private readonly o: VaultOptions) {}

  /** What the last good read found, by upstream name (never logged). */
  entries(): Entries {
    return this.#entries;
  }

  /** The first read (start-up waits for it), then the refresh loop. */
  async start(): Promise<void> {
    await this.#refresh();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #refresh(): Promise<void> {
    let nextMs = this.o.refreshMs;
    try {
      const { entries, leaseMs } = await this.#read();
      this.#entries = entries;
      this.o.onChange();
      // A leased secret is read again at two thirds of its lease, before it lapses.
      if (leaseMs > 0) nextMs = Math.min(nextMs, Math.max(1_000, Math.floor((leaseMs * 2) / 3)));
    } catch (err) {
      this.o.onError(err instanceof VaultError ? err.message : `Vault at ${this.o.address} could not be read: ${(err as Error).message}`);
    }
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#refresh(), nextMs);
    this.#timer.unref();
  }

  async #call(method: string, path: string): Promise<Record<string, unknown>> {
    const token = this.o.token();
    if (!token) throw new VaultError('no Vault token: set credentials.vault.token_file or VAULT_TOKEN');
    const res = await fetch(`${this.o.address.replace(/\/+$/, '')}/v1/${path}`, { method, headers: { 'x-vault-token': token }, signal: AbortSignal.timeout(10_000) });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      const errors = Array.isArray(body.errors) ? (body.errors as unknown[]).map(String).join('; ') : '';
      throw new VaultError(`Vault answered ${res.status} to ${method} /v1/${path}${errors ? `: ${errors}` : ''}`);
    }
    return body;
  }

  async #read(): Promise<{ entries: Entries; leaseMs: number }> {
    const base = `${this.o.mount}/metadata/${this.o.prefix}`.replace(/\/+$/, '');
    // LIST, spelled as Vault also takes it (GET ?list=true): HTTP stacks that know only the standard methods pass it.
    const listed = (await this.#call('GET', `${base}?list=true`)).data as { keys?: unknown } | undefined;
    const names = Array.isArray(listed?.keys) ? (listed.keys as unknown[]).filter((k): k is string => typeof k === 'string' && !k.endsWith('/')) : [];
    const entries: Entries = {};
    let leaseMs = 0;
    for (const name of names) {
      const body = await this.#call('GET', `${this.o.mount}/data/${this.o.prefix}/${encodeURIComponent(name)}`.replace(/\/\/+/g, '/'));
      const data = (body.data as { data?: unknown } | undefined)?.data;
      if (data && typeof data === 'object') entries[name] = Object.fromEntries(Object.entries(data as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const lease = Number(body.lease_duration ?? 0) * 1000;
      if (lease > 0) leaseMs = leaseMs === 0 ? lease : Math.min(leaseMs, lease);
    }
    return { entries, leaseMs };
  }
}

/** The token source for credentials.vault: the file each time (a sidecar renews it), else the environment. */
export function vaultToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): () => string | undefined {
  return () => {
    if (tokenFile) {
      try {
        return readFileSync(tokenFile, 'utf8').trim() || undefined;
      } catch {
        return undefined;
      }
    }
    return env.VAULT_TOKEN;
  };
}
