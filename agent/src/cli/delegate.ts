import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DATA_CLASSES,
  DelegationError,
  attenuate,
  generateHolderKey,
  parseChain,
  privateKeyFromPem,
  publicKeyFromRaw,
  verifyChain,
  type Grant,
  type LinkRequest,
} from '../../../proxy/src/index.js';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, oneOf, printer } from './client.js';

const HELP = `altrace delegate — delegation contracts (docs/delegation.md)

Usage:
  altrace delegate keygen --out FILE
      A holder key pair: the private key to FILE (PEM, mode 0600), the public key printed.
  altrace delegate root --agent AGENT --holder PUBKEY [GRANT] [--ttl SECONDS]
      Asks the agent's control API to mint a root link for AGENT, held by PUBKEY (operator token).
  altrace delegate attenuate --chain CHAIN --key FILE --agent WORKER --holder PUBKEY [GRANT] [--ttl SECONDS]
      Offline: appends a link for WORKER, signed with the key (FILE) that holds the chain's last link.
      Every dimension must be within the chain's: a widening link makes the whole chain invalid.
  altrace delegate verify --chain CHAIN (--root-key PUBKEY ... | --url URL)
      Offline check against the root public key(s); prints the grant in force. Exit 1 when invalid.

GRANT (each optional; absent means "as the parent"):
  --budget USD   --models a,b*   --tools x,y   --data-ceiling public|confidential|restricted
  --rate N/SECONDS   --regions eu-*,us-east-1
CHAIN is the chain text (adt1~...), or @FILE to read it. Workers send it in x-altrace-parent.
`;

const OPTIONS = {
  out: { type: 'string' },
  agent: { type: 'string' },
  holder: { type: 'string' },
  chain: { type: 'string' },
  key: { type: 'string' },
  ttl: { type: 'string' },
  budget: { type: 'string' },
  models: { type: 'string' },
  tools: { type: 'string' },
  'data-ceiling': { type: 'string' },
  rate: { type: 'string' },
  regions: { type: 'string' },
  'root-key': { type: 'string', multiple: true },
  ...CONTROL_OPTIONS,
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

function grantOf(v: Values): Grant {
  const g: Grant = {};
  if (v.budget !== undefined) {
    const n = Number(v.budget);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--budget must be a number of USD ≥ 0 (got "${v.budget}")`);
    g.budget_usd = n;
  }
  const models = list(v.models);
  if (models) g.models = models;
  const tools = list(v.tools);
  if (tools) g.tools = tools;
  const regions = list(v.regions);
  if (regions) g.regions = regions;
  const ceiling = v['data-ceiling'];
  if (ceiling !== undefined) g.data_ceiling = oneOf(ceiling, DATA_CLASSES, '--data-ceiling');
  if (v.rate !== undefined) {
    const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(v.rate);
    if (!m) throw new UsageError(`--rate is REQUESTS/SECONDS, e.g. 60/60 (got "${v.rate}")`);
    g.rate = { requests: Number(m[1]), per_s: Number(m[2]) };
  }
  return g;
}

function ttlOf(v: Values): number {
  const ttl = v.ttl === undefined ? 3600 : Number(v.ttl);
  if (!Number.isSafeInteger(ttl) || ttl < 1) throw new UsageError(`--ttl must be a whole number of seconds (got "${v.ttl}")`);
  return ttl;
}

function chainOf(v: Values): string {
  if (!v.chain) throw new UsageError('--chain CHAIN (or @FILE) is required');
  return v.chain.startsWith('@') ? readFileSync(v.chain.slice(1), 'utf8').trim() : v.chain;
}

function need<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

const KEY = /^[A-Za-z0-9_-]{43}$/;

/**
 * A base64url key may start with "-" (one key in 64), which parseArgs takes for an option:
 * `--holder -Abc…` is joined into `--holder=-Abc…` so it reads as the value it is.
 */
export function joinKeyValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if ((a === '--holder' || a === '--root-key') && next !== undefined && next.startsWith('-') && KEY.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export async function delegateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: joinKeyValues(args), allowPositionals: true, options: OPTIONS });
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const out = printer(values.json);
  const sub = positionals[0];
  if (sub === 'keygen') {
    const file = need(values.out, '--out FILE');
    const k = generateHolderKey();
    writeFileSync(file, k.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    out({ public_key: k.publicKey, private_key_file: file }, k.publicKey);
    return 0;
  }
  if (sub === 'root') {
    const body = { aud: need(values.agent, '--agent'), sub: need(values.holder, '--holder PUBKEY'), ttl_s: ttlOf(values), ...grantOf(values) };
    const minted = (await call(controlTarget(values), 'POST', '/delegations', body)) as { chain: string };
    out(minted, minted.chain);
    return 0;
  }
  if (sub === 'attenuate') {
    const chain = chainOf(values);
    const key = privateKeyFromPem(readFileSync(need(values.key, '--key FILE'), 'utf8'));
    const parent = parseChain(chain).at(-1)!.payload;
    const request: LinkRequest = { sub: need(values.holder, '--holder PUBKEY'), aud: need(values.agent, '--agent'), exp: Math.min(parent.exp, Math.floor(Date.now() / 1000) + ttlOf(values)), ...grantOf(values) };
    const next = attenuate(chain, key, request);
    out({ chain: next }, next);
    return 0;
  }
  if (sub === 'verify') {
    const chain = chainOf(values);
    let rootKeys = values['root-key'] ?? [];
    if (rootKeys.length === 0) {
      if (!values.url) throw new UsageError('give the root public key (--root-key) or the control API (--url) to fetch it from');
      rootKeys = [((await call(controlTarget(values), 'GET', '/delegations/root-key')) as { root_key: string }).root_key];
    }
    const roots = new Map(rootKeys.map((k) => [k, publicKeyFromRaw(k)]));
    try {
      const v = verifyChain(chain, roots, Date.now() / 1000);
      const view = { valid: true, agent: v.aud, links: v.links.length, grant: v.grant, not_before: new Date(v.nbf * 1000).toISOString(), expires: new Date(v.exp * 1000).toISOString() };
      out(view, `valid: ${v.links.length} link(s), for agent ${v.aud}, until ${view.expires}\ngrant: ${JSON.stringify(v.grant)}`);
      return 0;
    } catch (err) {
      if (!(err instanceof DelegationError)) throw err;
      out({ valid: false, link: err.link, message: err.message }, `invalid: ${err.message}`);
      return 1;
    }
  }
  throw new UsageError(`unknown subcommand "${sub}" (keygen, root, attenuate, verify)`);
}
