// Who a client certificate is (docs/security.md, "Mutual TLS"): an operator whose name, role and
// team the certificate's subject carries — CN the name (or the URI SAN altrace://operator/NAME
// that `altrace certs issue` adds), OU the role, O the team (none for an admin). A fleet node's
// certificate (URI SAN altrace://node/…) is never an operator's.
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { nodeIdOf, OPERATOR_URI } from '../control-plane/certificate-names.js';
import { ControlError } from '../errors.js';
import type { Operator } from '../services/operator.js';
import { isRole } from '../services/roles.js';
import { normalizeSerial } from '../state/store.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
const TEAM = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** One value of a subject field (Node gives an array when the field repeats: refused as ambiguous). */
function field(subject: PeerCertificate['subject'] | undefined, key: 'CN' | 'OU' | 'O'): string | null | undefined {
  const v = (subject as unknown as Record<string, string | string[] | undefined> | undefined)?.[key];
  if (v === undefined) return null;
  return Array.isArray(v) ? undefined : v;
}

/** The operator a verified certificate names; a ControlError (ALT_CERT_INVALID) naming what is wrong. */
export function operatorOf(peer: PeerCertificate): Operator & { serial: string } {
  const invalid = (why: string) => new ControlError('ALT_CERT_INVALID', `client certificate ${peer.serialNumber ?? ''}: ${why}`);
  if (nodeIdOf(peer) !== null) throw invalid('a fleet node’s certificate, not an operator’s');
  const uri = (peer.subjectaltname ?? '').split(', ').find((p) => p.startsWith(`URI:${OPERATOR_URI}`))?.slice(4 + OPERATOR_URI.length);
  const cn = field(peer.subject, 'CN');
  const name = uri ?? cn;
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid('its subject names no operator (CN, 1–128 of letters, digits and . _ : @ -)');
  const role = field(peer.subject, 'OU');
  if (!isRole(role)) throw invalid(`its OU ${JSON.stringify(role ?? null)} is not a role (admin, operator, viewer, auditor, approver)`);
  const team = field(peer.subject, 'O');
  if (team === undefined) throw invalid('it names more than one team (O)');
  if (role !== 'admin' && (team === null || !TEAM.test(team))) throw invalid(`a ${role} certificate names its team (O)`);
  return { name, role, team: role === 'admin' ? null : team, serial: normalizeSerial(peer.serialNumber ?? '') };
}

/** The certificate the connection presented, or null (none, or not TLS). */
export function presentedCertificate(socket: unknown): PeerCertificate | null {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return null;
  const peer = tls.getPeerCertificate();
  return peer && Object.keys(peer).length > 0 ? peer : null;
}
