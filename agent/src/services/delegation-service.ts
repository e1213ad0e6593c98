import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DelegationError, mintRoot, verifyChain, privateKeyFromPem, publicKeyFromRaw, rawPublicKey, type KeyRegistry, type LinkRequest } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import { requireAgentInScope } from './team-scope.js';
import type { Operator } from './operator.js';
import { ControlError, PolicyError } from '../errors.js';

/** Where the node's delegation root key lives. */
export function rootKeyFile(config: Config): string {
  return config.delegation.root_key_file ?? join(config.state_dir, 'delegation-root.pem');
}

/** The root private key; created (mode 0600) on first use. */
export function loadOrCreateRootKey(file: string): KeyObject {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  }
  return privateKeyFromPem(readFileSync(file, 'utf8'));
}

/**
 * The root public keys whose chains this node accepts: its own root (when it has one; never
 * created here) and `delegation.trusted_keys`. For offline tools such as `policy explain`.
 */
export function trustedRoots(config: Config): Map<string, KeyObject> {
  const file = rootKeyFile(config);
  if (!existsSync(file)) return rootSet(null, config);
  try {
    return rootSet(createPublicKey(privateKeyFromPem(readFileSync(file, 'utf8'))), config);
  } catch (err) {
    throw new PolicyError(`cannot read the delegation root key ${file}: ${(err as Error).message} (run as the agent's user, or list the root public key in delegation.trusted_keys)`, 'delegation.root_key_file');
  }
}

/** The node's own root public key (when it has one) and `delegation.trusted_keys`, by raw key. */
function rootSet(own: KeyObject | null, config: Config): Map<string, KeyObject> {
  const roots = new Map<string, KeyObject>(own ? [[rawPublicKey(own), own]] : []);
  for (const k of config.delegation.trusted_keys) roots.set(k, publicKeyFromRaw(k));
  return roots;
}

const FIELDS = new Set(['aud', 'sub', 'ttl_s', 'budget_usd', 'models', 'tools', 'data_ceiling', 'rate', 'regions']);
const MAX_TTL_S = 30 * 24 * 3600;

/**
 * The operator side of delegation: mints root links with the node's root key, and holds the
 * set of root public keys whose chains the delegation stage accepts.
 */
export class DelegationService {
  readonly #root: KeyObject;
  readonly rootPublicKey: string;
  readonly roots: ReadonlyMap<string, KeyObject>;

  constructor(
    config: Config,
    private readonly keys: KeyRegistry,
    private readonly now: () => number = Date.now,
  ) {
    this.#root = loadOrCreateRootKey(rootKeyFile(config));
    this.rootPublicKey = rawPublicKey(createPublicKey(this.#root));
    this.roots = rootSet(createPublicKey(this.#root), config);
  }

  /** `POST /delegations`: a root link for an agent in the operator's scope. */
  mint(op: Operator, body: unknown): { chain: string; root_key: string; expires: string } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
    if (typeof b.aud !== 'string' || b.aud === '') throw new ControlError('ALT_INVALID_FIELD', 'aud must name the agent the delegation is for', 'aud');
    requireAgentInScope(op, this.keys, b.aud, 'aud');
    if (typeof b.sub !== 'string') throw new ControlError('ALT_INVALID_FIELD', "sub must be the holder's Ed25519 public key (altrace delegate keygen)", 'sub');
    const ttl = b.ttl_s ?? 3600;
    if (!Number.isSafeInteger(ttl) || (ttl as number) < 1 || (ttl as number) > MAX_TTL_S) throw new ControlError('ALT_INVALID_FIELD', `ttl_s must be an integer from 1 to ${MAX_TTL_S}`, 'ttl_s');
    const nowS = Math.floor(this.now() / 1000);
    const { ttl_s: _ttl, ...rest } = b;
    const request = { ...rest, exp: nowS + (ttl as number) } as unknown as LinkRequest;
    let chain: string;
    try {
      chain = mintRoot(this.#root, request, nowS);
      // What the verifier would refuse is refused here, naming the field.
      verifyChain(chain, this.roots, nowS);
    } catch (err) {
      if (!(err instanceof DelegationError)) throw err;
      throw new ControlError('ALT_INVALID_FIELD', err.message, err.field ?? '(body)');
    }
    return { chain, root_key: this.rootPublicKey, expires: new Date(request.exp * 1000).toISOString() };
  }
}
