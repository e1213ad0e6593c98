// The agent's answer to the mcp-registry stage's provenance question (mcp.provenance in the
// configuration): the attestation document from the offline cache, else from the package's
// registry, verified with Sigstore's verifier (provenance.ts, loaded on first use: a node whose
// registry requires no provenance never loads Sigstore) against the configured trusted root.
// What verified is remembered for the process's life (a version's provenance does not change);
// what did not, for a minute, so a fixed registry or cache is seen without a restart.
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { readBody, type Logger, type ProvenanceAnswer, type ProvenanceGate } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors.js';

const PUBLIC_NPM = 'https://registry.npmjs.org';
const RETRY_REFUSED_MS = 60_000;
/** An attestations document is a few kilobytes per attestation; more is not one. */
const MAX_DOCUMENT_BYTES = 4 * 2 ** 20;

/** Where npm serves a version's attestations (the npm CLI's path: a scope's slash escaped). */
export function attestationsUrl(registryBaseUrl: string, identifier: string, version: string): string {
  return `${registryBaseUrl.replace(/\/+$/, '')}/-/npm/v1/attestations/${identifier.replace('/', '%2f')}@${encodeURIComponent(version)}`;
}

/** The trusted root the configuration names, read at start so that a bad file stops the start. */
function configuredRoot(file: string | undefined): unknown {
  if (!file) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`mcp.provenance.trusted_root_file ${file}: ${(err as Error).message}`, 'mcp.provenance.trusted_root_file');
  }
}

export function provenanceGate(settings: Config['mcp']['provenance'], logger: Logger): ProvenanceGate {
  const trustedRoot = configuredRoot(settings.trusted_root_file);
  const remembered = new Map<string, { answer: ProvenanceAnswer; until: number }>();

  /** The attestations document from the registry; null when it has none (404). */
  async function fetched(url: string): Promise<unknown> {
    const res = await request(url, { headersTimeout: settings.timeout_ms, bodyTimeout: settings.timeout_ms, headers: { accept: 'application/json' } });
    if (res.statusCode === 404) {
      await res.body.dump();
      return null;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${url} answered ${res.statusCode}`);
    }
    // Counted as it comes (a chunked answer declares no length): a registry cannot make the agent buffer more.
    const declared = Number(res.headers['content-length']);
    const read = await readBody(res.body, MAX_DOCUMENT_BYTES, Number.isFinite(declared) ? declared : null);
    if (read.tooLarge) {
      res.body.destroy();
      throw new Error(`${url} answered more than ${MAX_DOCUMENT_BYTES} bytes, more than an attestations document`);
    }
    return JSON.parse(Buffer.from(read.bytes).toString('utf8'));
  }

  async function check(identifier: string, version: string, repository: string, registryBaseUrl: string | null): Promise<ProvenanceAnswer> {
    const { provenanceFromCache, shippedTrustedRoot, verifyProvenance } = await import('./provenance.js');
    const root = trustedRoot ?? shippedTrustedRoot();
    if (settings.cache_dir) {
      const cached = provenanceFromCache(settings.cache_dir, identifier, version, root, repository);
      if (cached.status !== 'absent') return { ok: cached.status === 'ok', detail: `provenance ${cached.status} (cache): ${cached.detail}` };
    }
    if (!settings.fetch) return { ok: false, detail: `provenance absent: no attestation in the cache${settings.cache_dir ? ` (${settings.cache_dir})` : ''}, and mcp.provenance.fetch is off` };
    const url = attestationsUrl(registryBaseUrl ?? PUBLIC_NPM, identifier, version);
    const document = await fetched(url);
    if (document === null) return { ok: false, detail: `provenance absent: ${url} has no attestations` };
    const r = verifyProvenance({ document, identifier, version, trustedRoot: root, expectedRepository: repository });
    return { ok: r.status === 'ok', detail: `provenance ${r.status}: ${r.detail}` };
  }

  return (launched, repository, registryBaseUrl) => {
    const key = `${launched.identifier}@${launched.version}|${repository}|${registryBaseUrl ?? ''}`;
    const known = remembered.get(key);
    if (known && known.until > Date.now()) return known.answer;
    return check(launched.identifier, launched.version, repository, registryBaseUrl).then(
      (answer) => {
        remembered.set(key, { answer, until: answer.ok ? Infinity : Date.now() + RETRY_REFUSED_MS });
        logger.info({ package: `${launched.identifier}@${launched.version}`, repository, ok: answer.ok, detail: answer.detail }, 'MCP server provenance checked');
        return answer;
      },
      // A registry that cannot be asked is not remembered: the next launch asks again.
      (err: unknown) => ({ ok: false, detail: `provenance could not be read: ${(err as Error).message}` }),
    );
  };
}
