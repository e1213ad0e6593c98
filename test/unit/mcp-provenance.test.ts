// npm provenance of an MCP server's package, verified offline with Sigstore's verifier: bundles
// made by a Sigstore instance of the tests' own (test/fixtures/sigstore-instance.ts), in the
// format npm serves, against that instance's trusted root; and the public-good root as shipped.
import { createHash } from 'node:crypto';
import test from 'ava';
import { repositoryKey, shippedTrustedRoot, verifyProvenance } from '../../agent/src/mcp/provenance.js';
import { SigstoreInstance } from '../fixtures/sigstore-instance.js';

const REPO = 'https://github.com/modelcontextprotocol/servers';
const PKG = '@modelcontextprotocol/server-memory';
const tarball = Buffer.from('the package tarball');
const sha512 = createHash('sha512').update(tarball).digest('hex');
const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
const subjects = [{ name: 'pkg:npm/%40modelcontextprotocol/server-memory@2026.8.31', sha512 }];

test('a bundle from the trusted instance verifies: the package, its bytes and the repository that built it', async (t) => {
  const sigstore = await SigstoreInstance.start();
  const document = await sigstore.attestations({ subjects, repository: REPO });
  const r = verifyProvenance({ document, identifier: PKG, version: '2026.8.31', trustedRoot: sigstore.trustedRoot(), expectedRepository: `git+${REPO}.git`, integrity });
  t.deepEqual(r, { status: 'ok', detail: `pkg:npm/%40modelcontextprotocol/server-memory@2026.8.31 built from ${REPO}`, repository: REPO });
});

test('what it vouches for is held to the registry: another repository, version, or bytes is a mismatch', async (t) => {
  const sigstore = await SigstoreInstance.start();
  const root = sigstore.trustedRoot();
  const fork = await sigstore.attestations({ subjects, repository: 'https://github.com/someone-else/servers' });
  t.like(verifyProvenance({ document: fork, identifier: PKG, version: '2026.8.31', trustedRoot: root, expectedRepository: REPO }), { status: 'mismatch', repository: 'https://github.com/someone-else/servers' });
  const genuine = await sigstore.attestations({ subjects, repository: REPO });
  t.like(verifyProvenance({ document: genuine, identifier: PKG, version: '2026.9.1', trustedRoot: root, expectedRepository: REPO }), { status: 'mismatch' }, 'a bundle for another version');
  t.like(verifyProvenance({ document: genuine, identifier: PKG, version: '2026.8.31', trustedRoot: root, expectedRepository: REPO, integrity: `sha512-${createHash('sha512').update('other bytes').digest('base64')}` }), { status: 'mismatch' });
});

test('a bundle that does not verify is invalid: another instance, a changed payload, a log promise signed by a stranger', async (t) => {
  const sigstore = await SigstoreInstance.start();
  const other = await SigstoreInstance.start();
  const check = (document: unknown, root = sigstore.trustedRoot()) => verifyProvenance({ document, identifier: PKG, version: '2026.8.31', trustedRoot: root, expectedRepository: REPO });
  const invalid = (r: { status: string; detail: string }, why: RegExp) => {
    t.is(r.status, 'invalid');
    t.regex(r.detail, why);
  };
  invalid(check(await other.attestations({ subjects, repository: REPO })), /does not verify: Failed to verify certificate chain/);
  invalid(check(await sigstore.attestations({ subjects, repository: REPO, tamper: 'payload' })), /DSSE payload hash mismatch/);
  invalid(check(await sigstore.attestations({ subjects, repository: REPO, tamper: 'log' })), /inclusion promise could not be verified/);
  t.is(check({ attestations: [{ predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1', bundle: {} }] }).status, 'absent', 'a publish attestation alone is no provenance');
  t.is(check({ nothing: true }).status, 'absent');
  t.is(check({ attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: { mediaType: 'nonsense' } }] }).status, 'invalid');
  // The public-good instance's root (as @sigstore/tuf ships it) does not vouch for the tests' instance.
  invalid(check(await sigstore.attestations({ subjects, repository: REPO }), shippedTrustedRoot()), /certificate chain/);
});

test('repositories compare as one spelling', (t) => {
  t.is(repositoryKey('git+https://github.com/Org/Repo.git'), repositoryKey('https://github.com/org/repo/'));
  t.not(repositoryKey('https://github.com/org/repo'), repositoryKey('https://github.com/org/repo2'));
});
