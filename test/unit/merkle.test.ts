import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { nativePrefixedSha256 } from '../../agent/src/native.js';
import {
  CompactRange,
  EMPTY_ROOT,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  reference,
  subtreeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../agent/src/audit/merkle.js';

// The RFC 6962 reference vectors (certificate-transparency test data): eight leaves and the
// root of each prefix.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

test('roots match the RFC 6962 reference vectors, batch and incremental', (t) => {
  t.is(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const hashes = LEAVES.map(leafHash);
  const compact = new CompactRange();
  for (let n = 1; n <= 8; n++) {
    compact.append(hashes[n - 1]!);
    t.is(subtreeRoot(hashes, 0, n).toString('hex'), ROOTS[n - 1]!);
    t.is(compact.root().toString('hex'), ROOTS[n - 1]!);
  }
});

const leaves = Array.from({ length: 33 }, (_, i) => leafHash(Buffer.from(`record ${i}`)));

test('every inclusion proof verifies, and fails for another leaf, index or root', (t) => {
  for (let n = 1; n <= leaves.length; n++) {
    const root = subtreeRoot(leaves, 0, n);
    for (let m = 0; m < n; m++) {
      const proof = inclusionProof(leaves, m, n);
      if (!verifyInclusion(m, n, leaves[m]!, proof, root)) t.fail(`leaf ${m} of ${n}`);
      if (verifyInclusion(m, n, leaves[(m + 1) % leaves.length]!, proof, root) && n > 1) t.fail(`wrong leaf accepted at ${m} of ${n}`);
      if (n > 1 && verifyInclusion((m + 1) % n, n, leaves[m]!, proof, root)) t.fail(`wrong index accepted at ${m} of ${n}`);
      if (n < leaves.length && verifyInclusion(m, n, leaves[m]!, proof, subtreeRoot(leaves, 0, n + 1))) t.fail(`wrong root accepted at ${m} of ${n}`);
    }
  }
  t.false(verifyInclusion(3, 3, leaves[3]!, [], subtreeRoot(leaves, 0, 3)), 'index beyond the tree');
  t.pass();
});

test('every consistency proof verifies, and fails against a different history', (t) => {
  const forged = [...leaves];
  forged[2] = leafHash(Buffer.from('forged'));
  for (let n = 1; n <= leaves.length; n++) {
    const root2 = subtreeRoot(leaves, 0, n);
    for (let m = 0; m <= n; m++) {
      const root1 = subtreeRoot(leaves, 0, m);
      const proof = consistencyProof(leaves, m, n);
      if (!verifyConsistency(m, n, root1, root2, proof)) t.fail(`consistency ${m} → ${n}`);
      if (m > 2 && m < n && verifyConsistency(m, n, subtreeRoot(forged, 0, m), root2, proof)) t.fail(`forged prefix accepted ${m} → ${n}`);
    }
  }
  t.false(verifyConsistency(4, 8, subtreeRoot(leaves, 0, 4), subtreeRoot(leaves, 0, 8), []), 'an empty proof between different sizes');
  t.pass();
});

test('the addon hashes exactly as node:crypto does, for records of every length and for interior nodes', (t) => {
  const digest = nativePrefixedSha256();
  if (!digest) return t.fail('the native addon is not built (npm ci builds it); the audit writer would fall back to node:crypto');
  const bytes = randomBytes(2100);
  // Every length around the 64-byte block boundaries, then longer records.
  for (let n = 0; n <= 2100; n += n < 200 ? 1 : 97) {
    const record = bytes.subarray(0, n);
    t.deepEqual(leafHash(record), reference.leafHash(record), `record of ${n} bytes`);
  }
  const left = randomBytes(32);
  const right = randomBytes(32);
  t.deepEqual(nodeHash(left, right), reference.nodeHash(left, right));
  t.deepEqual(digest(7, left), createHash('sha256').update(Buffer.from([7])).update(left).digest());
});

test('the addon digest names the argument at fault before C++ sees it', (t) => {
  const digest = nativePrefixedSha256();
  if (!digest) return t.fail('the native addon is not built');
  t.throws(() => digest(256, Buffer.alloc(1)), { instanceOf: TypeError, message: /prefix must be a byte/ });
  t.throws(() => digest(0, 'text' as unknown as Uint8Array), { instanceOf: TypeError, message: /first must be a Uint8Array/ });
  t.throws(() => digest(0, Buffer.alloc(1), [1] as unknown as Uint8Array), { instanceOf: TypeError, message: /second must be a Uint8Array/ });
});
