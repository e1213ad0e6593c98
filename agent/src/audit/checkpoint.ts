// Checkpoints in the C2SP tlog-checkpoint format, signed as C2SP signed notes with Ed25519:
//
//   <origin>\n<tree size>\n<base64 root hash>\n   ← the note text, the bytes that are signed
//   \n
//   — <key name> <base64(4-byte key id || 64-byte signature)>\n
//
// key id = SHA-256(key name || "\n" || 0x01 || 32-byte public key)[0:4]; the verifier key is
// published as `<key name>+<hex key id>+<base64(0x01 || public key)>` (docs/audit.md).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { AltraceError } from '../errors.js';

const ED25519 = 0x01;
const EM_DASH = '\u2014';
/** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** The DER prefix of an Ed25519 PKCS#8 private key; the 32-byte seed follows it. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export class CheckpointError extends AltraceError {
  constructor(message: string) {
    super('ALT_CHECKPOINT_INVALID', message);
  }
}

export function checkpointText(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new CheckpointError('a checkpoint is origin, size and root hash, one per line');
  const [origin, sizeLine, rootLine] = lines as [string, string, string];
  if (!origin) throw new CheckpointError('the checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw new CheckpointError(`the checkpoint size "${sizeLine}" is not a decimal number`);
  const root = Buffer.from(rootLine, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootLine) throw new CheckpointError('the checkpoint root is not a base64 SHA-256 hash');
  return { origin, size: Number(sizeLine), root };
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

export function keyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([ED25519]), publicKey]))
    .digest()
    .subarray(0, 4);
}

export interface NoteVerifier {
  name: string;
  id: Buffer;
  key: KeyObject;
}

/** `<name>+<hex id>+<base64(0x01 || key)>`, the vkey format of golang.org/x/mod/sumdb/note. */
export function verifierKeyString(name: string, publicKey: KeyObject): string {
  const raw = rawPublicKey(publicKey);
  return `${name}+${keyId(name, raw).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), raw]).toString('base64')}`;
}

export function parseVerifierKey(vkey: string): NoteVerifier {
  // The base64 key material may itself contain '+': split off the first two fields only.
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey.trim());
  if (!m) throw new CheckpointError('a verifier key is <name>+<hex key id>+<base64 key>');
  const [, name, idHex, keyB64] = m as unknown as [string, string, string, string];
  const key = Buffer.from(keyB64, 'base64');
  if (key.length !== 33 || key[0] !== ED25519) throw new CheckpointError('the verifier key is not an Ed25519 key');
  const raw = key.subarray(1);
  const id = keyId(name, raw);
  if (id.toString('hex') !== idHex) throw new CheckpointError('the verifier key id does not match its name and key');
  return { name, id, key: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' }) };
}

/** The log's signing identity. */
export class NoteSigner {
  readonly verifierKey: string;
  readonly #id: Buffer;

  constructor(
    readonly name: string,
    readonly privateKey: KeyObject,
  ) {
    if (/[\s+]/.test(name) || name.length === 0) throw new CheckpointError('a key name has no spaces or +');
    const publicKey = createPublicKey(privateKey);
    this.#id = keyId(name, rawPublicKey(publicKey));
    this.verifierKey = verifierKeyString(name, publicKey);
  }

  static generate(name: string): NoteSigner {
    return new NoteSigner(name, generateKeyPairSync('ed25519').privateKey);
  }

  static fromPem(name: string, pem: string): NoteSigner {
    return new NoteSigner(name, createPrivateKey(pem));
  }

  toPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** A raw 32-byte Ed25519 seed, as in a `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>` signer key. */
  static fromSeed(name: string, seed: Buffer): NoteSigner {
    return new NoteSigner(name, createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
  }

  /** The signed note of a checkpoint. */
  sign(c: Checkpoint): string {
    return this.signText(checkpointText(c));
  }

  /** A signed note: the text (ending in a newline), a blank line, the signature line. */
  signText(text: string): string {
    if (!text.endsWith('\n')) throw new CheckpointError('a note text ends with a newline');
    const signature = sign(null, Buffer.from(text), this.privateKey);
    return `${text}\n${EM_DASH} ${this.name} ${Buffer.concat([this.#id, signature]).toString('base64')}\n`;
  }
}

/** Verifies a signed checkpoint note against a verifier key; returns the checkpoint it vouches for. */
export function openSignedCheckpoint(note: string, verifier: NoteVerifier): Checkpoint {
  return parseCheckpointText(openSignedNote(note, verifier));
}

/** Verifies a signed note against a verifier key; returns its text. */
export function openSignedNote(note: string, verifier: NoteVerifier): string {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new CheckpointError('a signed note is its text, a blank line, then signature lines');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split('\n');
  if (lines[lines.length - 1] !== '') throw new CheckpointError('the signature block does not end with a newline');
  for (const line of lines.slice(0, -1)) {
    const m = new RegExp(`^${EM_DASH} (\\S+) ([A-Za-z0-9+/=]+)$`).exec(line);
    if (!m) throw new CheckpointError(`malformed signature line: ${JSON.stringify(line.slice(0, 80))}`);
    const blob = Buffer.from(m[2]!, 'base64');
    if (m[1] !== verifier.name || blob.length !== 68 || !blob.subarray(0, 4).equals(verifier.id)) continue;
    if (!verify(null, Buffer.from(text), verifier.key, blob.subarray(4))) throw new CheckpointError(`the signature of ${verifier.name} does not verify`);
    return text;
  }
  throw new CheckpointError(`no signature by ${verifier.name} on this checkpoint`);
}
