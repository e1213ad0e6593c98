import { createPublicKey, type KeyObject } from 'node:crypto';
import { DelegationError, formatChain, linkId, parseChain, rawPublicKey, signLink, type LinkPayload } from './format.js';
import type { Grant } from './grant.js';

export interface LinkRequest extends Grant {
  /** The holder's public key (base64url raw). */
  sub: string;
  /** The agent the link is for. */
  aud: string;
  /** Validity, unix seconds; nbf defaults to now, and to the parent's nbf if later. */
  nbf?: number;
  exp: number;
}

function payloadOf(r: LinkRequest, iss: string, prev: string | undefined, now: number, parentNbf: number): LinkPayload {
  const { sub, aud, nbf, exp, ...grant } = r;
  const p: LinkPayload = { v: 1, iss, sub, aud, iat: now, nbf: nbf ?? Math.max(now, parentNbf), exp, ...grant };
  if (prev !== undefined) p.prev = prev;
  return p;
}

/** The operator's root link, signed with the root key. */
export function mintRoot(rootKey: KeyObject, r: LinkRequest, now = Math.floor(Date.now() / 1000)): string {
  return formatChain([signLink(payloadOf(r, rawPublicKey(createPublicKey(rootKey)), undefined, now, now), rootKey)]);
}

/**
 * Appends a link, signed with the key that holds the chain's last link. Nothing here checks
 * that the new link attenuates: the verifier does, and refuses the whole chain if it widens.
 */
export function attenuate(chain: string, holderKey: KeyObject, r: LinkRequest, now = Math.floor(Date.now() / 1000)): string {
  const links = parseChain(chain);
  const last = links.at(-1)!;
  const iss = rawPublicKey(createPublicKey(holderKey));
  if (last.payload.sub !== iss) throw new DelegationError("the key given does not hold the chain's last link", links.length - 1);
  const payload = payloadOf(r, iss, linkId(last.text), now, last.payload.nbf);
  return formatChain([...links.map((l) => l.text), signLink(payload, holderKey)]);
}
