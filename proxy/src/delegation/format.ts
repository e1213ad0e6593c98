import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { Grant } from './grant.js';

// The delegation token format, version 1 (docs/delegation.md):
//   chain   = "adt1" *( "~" link )
//   link    = base64url(payload JSON, UTF-8) "." base64url(Ed25519 signature)
//   signed  = the ASCII bytes of "altrace-delegation-v1." + base64url(payload)
// Signing the transmitted payload text, not a re-serialization, needs no canonical JSON.

export const CHAIN_PREFIX = 'adt1';
export const SIGNING_CONTEXT = 'altrace-delegation-v1.';
export const MAX_LINKS = 16;
export const MAX_CHAIN_CHARS = 32 * 1024;

export interface LinkPayload extends Grant {
  v: 1;
  /** Issuer's Ed25519 public key (raw 32 bytes, base64url): the root key, or the parent's holder. */
  iss: string;
  /** Holder's public key: whoever holds its private key may attenuate this link further. */
  sub: string;
  /** The agent this link is for: the last link's must be the agent presenting the chain. */
  aud: string;
  /** base64url(SHA-256(parent link text)); absent on the root link only. */
  prev?: string;
  iat: number;
  /** Validity, unix seconds: the time window of the grant. */
  nbf: number;
  exp: number;
}

export interface Link {
  text: string;
  payload: LinkPayload;
  signature: Buffer;
  /** base64url(SHA-256(text)): the link's id, what a child's `prev` names. */
  id: string;
}

/** Why a chain is refused; `link` is the index of the link at fault (-1: the chain as a whole). */
export class DelegationError extends Error {
  readonly code = 'ALT_DELEGATION_INVALID';
  constructor(
    message: string,
    readonly link: number,
    /** The payload field at fault, when one is. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function linkId(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

export function publicKeyFromRaw(raw: string): KeyObject {
  if (!/^[A-Za-z0-9_-]{43}$/.test(raw)) throw new Error('an Ed25519 public key is 32 bytes, base64url (43 characters)');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
}

export function rawPublicKey(key: KeyObject): string {
  return (key.export({ format: 'jwk' }) as { x: string }).x;
}

export interface KeyPair {
  publicKey: string;
  privateKey: KeyObject;
}

export function generateHolderKey(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: rawPublicKey(publicKey), privateKey };
}

export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an Ed25519 private key is needed, not ${key.asymmetricKeyType}`);
  return key;
}

export function signLink(payload: LinkPayload, issuer: KeyObject): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${sign(null, Buffer.from(SIGNING_CONTEXT + body), issuer).toString('base64url')}`;
}

export function verifyLinkSignature(link: Link, issuer: KeyObject): boolean {
  const body = link.text.slice(0, link.text.indexOf('.'));
  return verify(null, Buffer.from(SIGNING_CONTEXT + body), issuer, link.signature);
}

function parseLink(text: string, index: number): Link {
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$/.exec(text);
  if (!m) throw new DelegationError(`link ${index} is not payload.signature in base64url`, index);
  const body = Buffer.from(m[1]!, 'base64url');
  const signature = Buffer.from(m[2]!, 'base64url');
  // Canonical base64url only: unused trailing bits would give one link several texts (and ids).
  if (body.toString('base64url') !== m[1] || signature.toString('base64url') !== m[2]) throw new DelegationError(`link ${index} is not canonical base64url`, index);
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw new DelegationError(`link ${index}: the payload is not JSON`, index);
  }
  return { text, payload: payload as LinkPayload, signature, id: linkId(text) };
}

export function parseChain(chain: string): Link[] {
  if (chain.length > MAX_CHAIN_CHARS) throw new DelegationError(`the chain is longer than ${MAX_CHAIN_CHARS} characters`, -1);
  const parts = chain.trim().split('~');
  if (parts[0] !== CHAIN_PREFIX) throw new DelegationError(`a chain starts with "${CHAIN_PREFIX}~"`, -1);
  const links = parts.slice(1);
  if (links.length === 0) throw new DelegationError('the chain has no links', -1);
  if (links.length > MAX_LINKS) throw new DelegationError(`the chain has more than ${MAX_LINKS} links`, -1);
  return links.map(parseLink);
}

export function formatChain(links: readonly string[]): string {
  return [CHAIN_PREFIX, ...links].join('~');
}
