import { hash, randomBytes } from 'node:crypto';

export const VIRTUAL_KEY_PREFIX = 'alt-';

export interface VirtualKey {
  id: string;
  /** sha256 of the secret, hex: the secret itself is never stored. */
  hash: string;
  /** First characters of the secret, safe to show (alt-xxxx). */
  prefix: string;
  agent: string;
  team: string;
  /** Glob patterns of allowed models; empty means any model the policy allows. */
  models: string[];
  /** Allowed upstreams / providers; empty means any the policy allows. */
  providers: string[];
  /** Cost center the key's spend is attributed to, when it has one. */
  costCenter: string | null;
  expiresAt: number | null;
  revokedAt: number | null;
  createdAt: number;
}

export interface Principal {
  keyId: string;
  agent: string;
  team: string;
}

export function hashKey(secret: string): string {
  // One-shot hash: no Hash object per request on the hot path.
  return hash('sha256', secret, 'hex');
}

export function generateKeySecret(): string {
  return VIRTUAL_KEY_PREFIX + randomBytes(30).toString('base64url');
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, VIRTUAL_KEY_PREFIX.length + 6);
}

/** How many presented secrets findBySecret remembers before it starts afresh. */
const RECENT_SECRETS = 4096;

/**
 * The in-memory view of every issued key: the hot path reads this and only this.
 * The state store fills it at start-up and on every change it acknowledges.
 */
export class KeyRegistry {
  readonly #byHash = new Map<string, VirtualKey>();
  readonly #byId = new Map<string, VirtualKey>();
  /**
   * Secrets presented lately → the key they hashed to, so a key in use is not hashed again on
   * every request. A hit counts only while that very key is still the registered one for its
   * hash: a key removed or replaced (revoked, rotated) is looked up afresh, so this can never
   * answer with a key the registry no longer holds. Secrets that match no key are not kept.
   */
  readonly #recent = new Map<string, VirtualKey>();

  put(key: VirtualKey): void {
    const old = this.#byId.get(key.id);
    if (old) this.#byHash.delete(old.hash);
    this.#byHash.set(key.hash, key);
    this.#byId.set(key.id, key);
  }

  remove(id: string): void {
    const old = this.#byId.get(id);
    if (!old) return;
    this.#byHash.delete(old.hash);
    this.#byId.delete(id);
  }

  findBySecret(secret: string): VirtualKey | undefined {
    const recent = this.#recent.get(secret);
    if (recent !== undefined && this.#byHash.get(recent.hash) === recent) return recent;
    const key = this.#byHash.get(hashKey(secret));
    if (key === undefined) {
      if (recent !== undefined) this.#recent.delete(secret);
      return undefined;
    }
    if (this.#recent.size >= RECENT_SECRETS) this.#recent.clear();
    this.#recent.set(secret, key);
    return key;
  }

  /** The key a presented secret hashed to (hashKey), where the secret itself is not at hand. */
  findByHash(hash: string): VirtualKey | undefined {
    return this.#byHash.get(hash);
  }

  get(id: string): VirtualKey | undefined {
    return this.#byId.get(id);
  }

  list(): VirtualKey[] {
    return [...this.#byId.values()];
  }
}
