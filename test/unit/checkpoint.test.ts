import test from 'ava';
import { CheckpointError, NoteSigner, openSignedCheckpoint, openSignedNote, parseVerifierKey } from '../../agent/src/audit/checkpoint.js';

// The reference vector of golang.org/x/mod/sumdb/note (note_test.go). Ed25519 is
// deterministic, so signing the same text with the same key must give the same note.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

test('signs and verifies exactly as the Go signed-note implementation', (t) => {
  const seed = Buffer.from(GO_SKEY.split('+').slice(4).join('+'), 'base64').subarray(1);
  const signer = NoteSigner.fromSeed('PeterNeumann', seed);
  t.is(signer.verifierKey, GO_VKEY);
  t.is(signer.signText(GO_TEXT), GO_NOTE);
  t.is(openSignedNote(GO_NOTE, parseVerifierKey(GO_VKEY)), GO_TEXT);
  t.throws(() => openSignedNote(GO_NOTE.replace('cryptography', 'cryptographY'), parseVerifierKey(GO_VKEY)), { instanceOf: CheckpointError });
});

test('a checkpoint round-trips; another key, a changed size or a malformed key are refused', (t) => {
  const signer = NoteSigner.generate('altrace.test/audit');
  const root = Buffer.alloc(32, 7);
  const note = signer.sign({ origin: 'altrace.test/audit', size: 42, root });
  t.regex(note, /^altrace\.test\/audit\n42\n[A-Za-z0-9+/]{43}=\n\n\u2014 altrace\.test\/audit [A-Za-z0-9+/]+=*\n$/);
  t.deepEqual(openSignedCheckpoint(note, parseVerifierKey(signer.verifierKey)), { origin: 'altrace.test/audit', size: 42, root });
  t.throws(() => openSignedCheckpoint(note.replace('\n42\n', '\n43\n'), parseVerifierKey(signer.verifierKey)), { message: /does not verify/ });
  const other = NoteSigner.generate('altrace.test/audit');
  t.throws(() => openSignedCheckpoint(note, parseVerifierKey(other.verifierKey)), { message: /no signature by/ });
  t.throws(() => parseVerifierKey('PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), { message: /key id/ });
  t.throws(() => parseVerifierKey('nonsense'), { instanceOf: CheckpointError });
});
