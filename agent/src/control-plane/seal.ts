import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { AltraceError } from '../errors.js';

/** ALTRACE_FLEET_CA_KEY is missing, too short, or not the secret the CA's key was sealed with. */
export class FleetSecretError extends AltraceError {
  constructor(message: string) {
    super('ALT_FLEET_CA_KEY', message);
  }
}

const FORMAT = 1;
const SALT = 16;
const IV = 12;
const TAG = 16;
export const MIN_SECRET_LENGTH = 32;

function keyFor(secret: string, salt: Buffer): Buffer {
  if (secret.length < MIN_SECRET_LENGTH) throw new FleetSecretError(`ALTRACE_FLEET_CA_KEY must be at least ${MIN_SECRET_LENGTH} characters (it seals the fleet CA's private key in PostgreSQL); generate one with: openssl rand -base64 48`);
  return scryptSync(secret, salt, 32);
}

/**
 * The CA's private key as PostgreSQL keeps it: AES-256-GCM under a key derived (scrypt) from the
 * operator's secret, so a database dump alone cannot sign node certificates.
 * Layout: format byte, salt, IV, tag, ciphertext.
 */
export function seal(plain: Buffer, secret: string): Buffer {
  const salt = randomBytes(SALT);
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, salt), iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT]), salt, iv, cipher.getAuthTag(), body]);
}

export function unseal(sealed: Buffer, secret: string): Buffer {
  if (sealed.length < 1 + SALT + IV + TAG || sealed[0] !== FORMAT) throw new FleetSecretError('the sealed fleet CA key in PostgreSQL is not in a format this Altrace reads');
  const salt = sealed.subarray(1, 1 + SALT);
  const iv = sealed.subarray(1 + SALT, 1 + SALT + IV);
  const tag = sealed.subarray(1 + SALT + IV, 1 + SALT + IV + TAG);
  const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, salt), iv);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(1 + SALT + IV + TAG)), decipher.final()]);
  } catch {
    throw new FleetSecretError('ALTRACE_FLEET_CA_KEY is not the secret the fleet CA was created with: every replica must be given the same one');
  }
}
