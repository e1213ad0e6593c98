import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { CredentialStoreError } from '../errors.js';

export type StoredCredentials = Record<string, Record<string, string>>;

/** Loads the 32-byte master key, creating it (mode 0600) on first use. */
export function loadMasterKey(file: string, envValue: string | undefined): Buffer {
  if (envValue) {
    const key = /^[0-9a-f]{64}$/i.test(envValue) ? Buffer.from(envValue, 'hex') : Buffer.from(envValue, 'base64');
    if (key.length !== 32) throw new CredentialStoreError('ALTRACE_MASTER_KEY must be 32 bytes, as 64 hex characters or base64');
    return key;
  }
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new CredentialStoreError(`master key ${file} is not 32 bytes of base64`);
  return key;
}

/**
 * The credentials an operator stored with `altrace credentials set`: AES-256-GCM at rest,
 * written to a temporary file, fsynced, then renamed over the old one.
 */
export class EncryptedCredentialFile {
  constructor(
    readonly path: string,
    readonly masterKey: Buffer,
  ) {}

  read(): StoredCredentials {
    if (!existsSync(this.path)) return {};
    let doc: { v: number; iv: string; tag: string; data: string };
    try {
      doc = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new CredentialStoreError(`credential store ${this.path} is not readable: ${(err as Error).message}`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, Buffer.from(doc.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(doc.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(doc.data, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as StoredCredentials;
    } catch {
      throw new CredentialStoreError(`credential store ${this.path} cannot be decrypted: wrong master key or a damaged file`);
    }
  }

  write(creds: StoredCredentials): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(creds), 'utf8'), cipher.final()]);
    const doc = { v: 1, alg: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(doc), { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
  }
}
