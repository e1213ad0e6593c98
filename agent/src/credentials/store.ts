import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Credential, CredentialSource } from '../../../proxy/src/index.js';
import { CredentialStoreError } from '../errors.js';
import type { StoredCredentials } from './encrypted-file.js';

/** The env variables each built-in provider's key is read from, in order. */
export const PROVIDER_KEY_ENV: Readonly<Record<string, readonly string[]>> = {
  openai: ['OPENAI_API_KEY'],
  anthropic: ['ANTHROPIC_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  azure: ['AZURE_OPENAI_API_KEY'],
  bedrock: ['AWS_BEARER_TOKEN_BEDROCK'],
};

type AwsChain = () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }>;

export interface CredentialStoreOptions {
  env: NodeJS.ProcessEnv;
  file?: string | undefined;
  secretDir?: string | undefined;
  stored: () => StoredCredentials;
  /** What Vault's KV v2 engine holds (credentials.vault), as last read; absent: no Vault. */
  vault?: () => Record<string, Record<string, string>>;
  /** Env variable holding the key of each configured upstream that takes one (OpenAI-compatible servers, MCP servers). */
  keyEnv: Record<string, string | undefined>;
  awsChain?: AwsChain | undefined;
}

function toCredential(entry: Record<string, string> | string | undefined): Credential | null {
  if (entry === undefined) return null;
  if (typeof entry === 'string') return entry ? { type: 'api-key', value: entry } : null;
  if (entry.api_key) return { type: 'api-key', value: entry.api_key };
  if (entry.access_key_id && entry.secret_access_key) {
    return { type: 'aws-sigv4', accessKeyId: entry.access_key_id, secretAccessKey: entry.secret_access_key, ...(entry.session_token ? { sessionToken: entry.session_token } : {}) };
  }
  return null;
}

/**
 * One file of a secret mount (a Kubernetes Secret's volume, Vault Agent's or the Secrets Store
 * CSI driver's output): the key itself, or a YAML mapping of its parts (api_key; or
 * access_key_id, secret_access_key, session_token for Bedrock). What cannot be a credential is
 * said in words an operator can act on.
 */
function secretFile(path: string): { credential: Credential | null; problem: string | null } {
  const text = readFileSync(path, 'utf8').trim();
  if (!text) return { credential: null, problem: `secret file ${path} is empty` };
  let doc: unknown = null;
  try {
    doc = /^[a-z_]+\s*:/m.test(text) ? parseYaml(text) : null;
  } catch {
    doc = null;
  }
  if (doc !== null && typeof doc === 'object') {
    const credential = toCredential(doc as Record<string, string>);
    return credential ? { credential, problem: null } : { credential: null, problem: `secret file ${path} holds a mapping with neither api_key nor access_key_id and secret_access_key` };
  }
  return { credential: toCredential(text), problem: null };
}

/**
 * The credential lane's source of real provider keys. Precedence: environment, Kubernetes
 * secret mount, credentials file, Vault (KV v2), then the encrypted store. Read at start-up, on reload(), and
 * whenever a watched secret mount or credentials file changes (watch()): a rotated secret is used
 * from the next request, and a request already on its way keeps the credential it was given.
 * The hot path reads memory only.
 */
export class CredentialStore implements CredentialSource {
  #map = new Map<string, Credential>();
  #problems = new Map<string, string>();
  #awsCached: { cred: Credential; until: number } | null = null;

  constructor(private readonly o: CredentialStoreOptions) {
    this.reload();
  }

  reload(): void {
    const next = new Map<string, Credential>();
    const problems = new Map<string, string>();
    const put = (name: string, c: Credential | null) => {
      if (c && !next.has(name)) next.set(name, c);
    };
    const env = this.o.env;
    for (const [name, vars] of Object.entries(PROVIDER_KEY_ENV)) for (const v of vars) put(name, toCredential(env[v]));
    for (const [name, v] of Object.entries(this.o.keyEnv)) if (v) put(name, toCredential(env[v]));
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      put('bedrock', toCredential({ access_key_id: env.AWS_ACCESS_KEY_ID, secret_access_key: env.AWS_SECRET_ACCESS_KEY, session_token: env.AWS_SESSION_TOKEN ?? '' }));
    }
    if (this.o.secretDir && existsSync(this.o.secretDir)) {
      for (const name of readdirSync(this.o.secretDir)) {
        if (name.startsWith('.')) continue;
        // A Kubernetes secret key cannot hold ':' or '@', so the MCP server mcp:github is the file
        // mcp.github, and team payments' OpenAI key the file openai.team.payments.
        const scoped = /^(.+)\.team\.([^.]+)$/.exec(name);
        const base = scoped ? scoped[1]! : name;
        const upstream = `${base.startsWith('mcp.') ? `mcp:${base.slice(4)}` : base}${scoped ? `@${scoped[2]}` : ''}`;
        let read: ReturnType<typeof secretFile>;
        try {
          read = secretFile(join(this.o.secretDir, name));
        } catch (err) {
          // Removed between the listing and the read (a rotation under way): the next change reads it again.
          read = { credential: null, problem: `secret file ${join(this.o.secretDir, name)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
        }
        if (read.problem && !next.has(upstream)) problems.set(upstream, read.problem);
        put(upstream, read.credential);
      }
    }
    if (this.o.file) {
      let doc: unknown;
      try {
        doc = parseYaml(readFileSync(this.o.file, 'utf8'));
      } catch (err) {
        throw new CredentialStoreError(`credentials file ${this.o.file}: ${(err as Error).message}`);
      }
      if (typeof doc !== 'object' || doc === null) throw new CredentialStoreError(`credentials file ${this.o.file} must map upstream names to keys`);
      for (const [name, entry] of Object.entries(doc as Record<string, Record<string, string> | string>)) put(name, toCredential(entry));
    }
    for (const [name, entry] of Object.entries(this.o.vault?.() ?? {})) put(name, toCredential(entry));
    for (const [name, entry] of Object.entries(this.o.stored())) put(name, toCredential(entry));
    for (const name of next.keys()) problems.delete(name);
    this.#map = next;
    this.#problems = problems;
  }

  /** Why an upstream has no credential, when a source said why (a malformed or empty secret file). */
  problem(upstream: string): string | null {
    return this.#problems.get(upstream) ?? null;
  }

  /**
   * Reloads when the secret mount or the credentials file changes. A Kubernetes secret volume
   * swaps its `..data` link in one rename; Vault Agent and the CSI driver rewrite files: either
   * way one reload a moment after the last event. A reload that fails (a credentials file
   * mid-edit) keeps the last good credentials and says why.
   */
  watch(onReload: (err: Error | null) => void): { close(): void } {
    const watchers: FSWatcher[] = [];
    let timer: NodeJS.Timeout | null = null;
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          this.reload();
          onReload(null);
        } catch (err) {
          onReload(err as Error);
        }
      }, 100);
      timer.unref();
    };
    for (const dir of [this.o.secretDir, this.o.file ? dirname(this.o.file) : undefined]) {
      if (!dir || !existsSync(dir)) continue;
      const w = watch(dir, { persistent: false }, changed);
      w.on('error', () => {});
      watchers.push(w);
    }
    return {
      close: () => {
        if (timer) clearTimeout(timer);
        for (const w of watchers) w.close();
      },
    };
  }

  /**
   * The credential for `upstream`; with `team`, the team's own (`<upstream>@<team>` in the
   * credentials file or store, `<upstream>.team.<team>` in a secret mount) before the shared one:
   * team A's agents are billed to team A's key.
   */
  get(upstream: string, team?: string): Credential | null | Promise<Credential | null> {
    const c = (team !== undefined ? this.#map.get(`${upstream}@${team}`) : undefined) ?? this.#map.get(upstream);
    if (c) return c;
    if (upstream === 'bedrock' && this.o.awsChain) return this.#fromAwsChain();
    return null;
  }

  /** Which upstreams have a credential, and from where it can be told apart: never the value. */
  configured(): string[] {
    return [...this.#map.keys()].sort();
  }

  async #fromAwsChain(): Promise<Credential | null> {
    if (this.#awsCached && this.#awsCached.until > Date.now()) return this.#awsCached.cred;
    try {
      const c = await this.o.awsChain!();
      const cred: Credential = { type: 'aws-sigv4', accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
      this.#awsCached = { cred, until: c.expiration ? c.expiration.getTime() - 60_000 : Date.now() + 300_000 };
      return cred;
    } catch {
      return null;
    }
  }
}
