// npm provenance of an MCP server's package, verified offline: the attestation bundle npm serves
// (GET /-/npm/v1/attestations/<name>@<version>, kept in a cache directory), checked with
// Sigstore's own verifier against a trusted root — by default the public-good instance's, as
// @sigstore/tuf ships it — then read: which package and version the SLSA statement is about, and
// which source repository the signing certificate says built it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';

/** Fulcio's Source Repository URI extension (the repository the workflow ran in). */
const OID_SOURCE_REPOSITORY_URI = '1.3.6.1.4.1.57264.1.12';
const SLSA_PROVENANCE = /^https:\/\/slsa\.dev\/provenance\/v/;

export interface ProvenanceResult {
  /** absent: no attestation in the cache; invalid: it does not verify; mismatch: it verifies, for something else; ok. */
  status: 'ok' | 'absent' | 'invalid' | 'mismatch';
  detail: string;
  /** The source repository the certificate names, when it verified. */
  repository: string | null;
}

/** The public-good trusted root as @sigstore/tuf ships it (its TUF seed), read once. */
let shippedRoot: unknown;
export function shippedTrustedRoot(): unknown {
  if (shippedRoot !== undefined) return shippedRoot;
  const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
  const target = Object.values(seeds)[0]?.targets['trusted_root.json'];
  if (!target) throw new Error('@sigstore/tuf ships no trusted_root.json');
  return (shippedRoot = JSON.parse(Buffer.from(target, 'base64').toString('utf8')));
}

/** Where a package's attestations are kept: DIR/<name>@<version>.json (a scope is a directory, as in node_modules). */
export function attestationPath(dir: string, identifier: string, version: string): string {
  return join(dir, `${identifier}@${version}.json`);
}

/** github.com/org/repo, https://github.com/org/repo.git, git+https://… : one spelling. */
export function repositoryKey(url: string): string {
  return url.trim().replace(/^git\+/, '').replace(/^(?:https?:\/\/|git:\/\/|ssh:\/\/git@)/, '').replace(/\.git$/, '').replace(/\/+$/, '').toLowerCase();
}

const npmPurl = (identifier: string, version: string): string => `pkg:npm/${identifier.replace(/^@/, '%40')}@${version}`;

/** The value of a certificate extension holding a DER string (UTF8String, IA5String …): its bytes after tag and length. */
function derString(value: Buffer): string {
  if (value.length < 2) return value.toString('utf8');
  let at = 2;
  let length = value[1]!;
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let i = 0; i < n; i++) length = (length << 8) | value[2 + i]!;
    at += n;
  }
  return value.subarray(at, at + length).toString('utf8');
}

export interface ProvenanceCheck {
  /** The attestations document npm serves for the package version ({attestations: [{predicateType, bundle}]}). */
  document: unknown;
  identifier: string;
  version: string;
  /** The trusted root (Sigstore's trusted_root.json). */
  trustedRoot: unknown;
  /** The repository the registry expects (server.json repository.url); null: any, reported. */
  expectedRepository: string | null;
  /** The package's sha512 integrity (a lockfile's `integrity`), when known: the statement must be about these bytes. */
  integrity?: string | null;
}

/** Verifies a package's SLSA provenance attestation and reads what it vouches for. */
export function verifyProvenance(c: ProvenanceCheck): ProvenanceResult {
  const attestations = (c.document as { attestations?: { predicateType?: string; bundle?: unknown }[] } | null)?.attestations;
  const provenance = attestations?.find((a) => typeof a.predicateType === 'string' && SLSA_PROVENANCE.test(a.predicateType));
  if (!provenance?.bundle) return { status: 'absent', detail: 'the attestations hold no SLSA provenance', repository: null };
  let signer;
  let statement: { subject?: { name?: string; digest?: Record<string, string> }[] };
  try {
    const bundle = bundleFromJSON(provenance.bundle);
    const root = TrustedRoot.fromJSON(c.trustedRoot);
    // Certificate transparency is required where the root names CT logs (the public-good instance does).
    const verifier = new Verifier(toTrustMaterial(root), { ctlogThreshold: root.ctlogs.length > 0 ? 1 : 0, tlogThreshold: 1 });
    signer = verifier.verify(toSignedEntity(bundle));
    if (bundle.content.$case !== 'dsseEnvelope') return { status: 'invalid', detail: 'the provenance is not a DSSE envelope', repository: null };
    statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')) as typeof statement;
  } catch (err) {
    return { status: 'invalid', detail: `the attestation does not verify: ${(err as Error).message}`, repository: null };
  }
  const oid = signer.identity?.oids?.find((o) => o.oid?.id.join('.') === OID_SOURCE_REPOSITORY_URI);
  const repository = oid ? derString(Buffer.from(oid.value)) : null;
  const purl = npmPurl(c.identifier, c.version);
  const subject = statement.subject?.find((s) => s.name === purl);
  if (!subject) return { status: 'mismatch', detail: `the provenance is about ${statement.subject?.map((s) => s.name).join(', ') || 'nothing'}, not ${purl}`, repository };
  if (c.integrity) {
    const expected = /^sha512-(.+)$/.exec(c.integrity)?.[1];
    const digest = subject.digest?.sha512;
    if (!expected || !digest || Buffer.from(expected, 'base64').toString('hex') !== digest) return { status: 'mismatch', detail: `the provenance is about other bytes than ${c.integrity.slice(0, 24)}…`, repository };
  }
  if (c.expectedRepository && (!repository || repositoryKey(repository) !== repositoryKey(c.expectedRepository))) {
    return { status: 'mismatch', detail: `built from ${repository ?? 'an unnamed repository'}, not ${c.expectedRepository}`, repository };
  }
  return { status: 'ok', detail: `${purl} built from ${repository ?? 'an unnamed repository'}`, repository };
}

/** Reads the cached attestations of a package version and verifies them; absent when the cache has none. */
export function provenanceFromCache(dir: string, identifier: string, version: string, trustedRoot: unknown, expectedRepository: string | null, integrity?: string | null): ProvenanceResult {
  const file = attestationPath(dir, identifier, version);
  if (!existsSync(file)) return { status: 'absent', detail: `no attestation cached at ${file}`, repository: null };
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { status: 'invalid', detail: `${file} is not JSON: ${(err as Error).message}`, repository: null };
  }
  return verifyProvenance({ document, identifier, version, trustedRoot, expectedRepository, integrity: integrity ?? null });
}
