// What fleet certificates call their holders, apart from the CA that issues them: servers that
// only read a peer's certificate need these, not the X.509 library (loaded only to issue).
import type { PeerCertificate } from 'node:tls';

export const NODE_URI = 'altrace://node/';
/** The URI SAN of an operator's certificate: its name, as the audit log records the actor. */
export const OPERATOR_URI = 'altrace://operator/';

/** A node id: what the node calls itself, kept to characters that are safe in a URI and a log line. */
export const NODE_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** The node id a verified client certificate names (its URI SAN), or null. */
export function nodeIdOf(peer: PeerCertificate | null | undefined): string | null {
  const san = peer?.subjectaltname;
  if (!san) return null;
  for (const part of san.split(', ')) {
    if (part.startsWith(`URI:${NODE_URI}`)) {
      const id = part.slice(4 + NODE_URI.length);
      return NODE_ID.test(id) ? id : null;
    }
  }
  return null;
}
