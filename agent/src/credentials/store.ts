import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * The credential lane's source of real provider keys. Precedence: environment, Kubernetes
 * secret mount, credentials file, then the encrypted store. Read at start-up and on reload();
 * the hot path reads memory only.
 */
export class CredentialStore implements CredentialSource {
  #map = new Map<string, Credential>();
  #awsCached: { cred: Credential; until: number } | null = null;

  constructor(private readonly o: CredentialStoreOptions) {
    this.reload();
  }

  reload(): void {
    const next = new Map<string, Credential>();
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
        // A Kubernetes secret key cannot hold ':', so the MCP server mcp:github is the file mcp.github.
        put(name.startsWith('mcp.') ? `mcp:${name.slice(4)}` : name, toCredential(readFileSync(join(this.o.secretDir, name), 'utf8').trim()));
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
    for (const [name, entry] of Object.entries(this.o.stored())) put(name, toCredential(entry));
    this.#map = next;
  }

  get(upstream: string): Credential | null | Promise<Credential | null> {
    const c = this.#map.get(upstream);
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
