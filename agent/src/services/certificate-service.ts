// Operators' client certificates (docs/security.md, "Mutual TLS"): issued by the control CA from
// the operator's own certificate request (the key never leaves the operator), recorded, listed,
// and revoked — persisted before the answer, and refused by every replica within a second.
import type { FleetCa } from '../control-plane/fleet-ca.js';
import { ControlError } from '../errors.js';
import type { ServiceStore } from '../state/service-store.js';
import { normalizeSerial, type OperatorCertificate } from '../state/store.js';
import type { Operator } from './operator.js';
import { isRole, ROLES, type Role } from './roles.js';
import { requireAdmin } from './team-scope.js';

const FIELDS = new Set(['csr', 'name', 'role', 'team', 'ttl_s']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
const TEAM = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** A year at most: a certificate is renewed, not kept forever (revocation lists grow with what is revoked). */
const MAX_TTL_S = 366 * 86_400;
const DEFAULT_TTL_S = 90 * 86_400;

export class CertificateService {
  constructor(
    private readonly store: ServiceStore,
    /** The control CA, when this agent holds it; null when client certificates come from an external CA. */
    private readonly ca: FleetCa | null,
    /** Called once a revocation is stored: this replica refuses the certificate at once. */
    private readonly onRevoked: () => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(op: Operator, body: unknown): Promise<{ certificate: string; ca: string; view: OperatorCertificate }> {
    requireAdmin(op, 'issue operator certificates');
    if (!this.ca) throw new ControlError('ALT_CONFLICT', 'no control CA issues operator certificates here: control.tls is off, or its client CA is external (control.tls.client_ca_file: issue them with that CA)');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
    if (typeof b.csr !== 'string') throw new ControlError('ALT_INVALID_FIELD', 'csr is required: a PEM PKCS#10 request made with the operator’s own key', 'csr');
    if (typeof b.name !== 'string' || !NAME.test(b.name)) throw new ControlError('ALT_INVALID_FIELD', 'name is required: letters, digits, _ . : @ - (at most 128)', 'name');
    if (!isRole(b.role)) throw new ControlError('ALT_INVALID_FIELD', `role is required: one of ${ROLES.join(', ')}`, 'role');
    const role: Role = b.role;
    const team = b.team === undefined || b.team === null ? null : b.team;
    if (team !== null && (typeof team !== 'string' || !TEAM.test(team))) throw new ControlError('ALT_INVALID_FIELD', 'team must be a team name', 'team');
    if (role === 'admin' && team !== null) throw new ControlError('ALT_INVALID_FIELD', 'an admin certificate acts on every team: give no team', 'team');
    if (role !== 'admin' && team === null) throw new ControlError('ALT_INVALID_FIELD', `a ${role} certificate needs the team it acts for`, 'team');
    const ttl = b.ttl_s === undefined ? DEFAULT_TTL_S : b.ttl_s;
    if (!Number.isInteger(ttl) || (ttl as number) < 60 || (ttl as number) > MAX_TTL_S) throw new ControlError('ALT_INVALID_FIELD', `ttl_s must be a whole number of seconds from 60 to ${MAX_TTL_S}`, 'ttl_s');
    let issued;
    try {
      issued = await this.ca.issueOperator(b.csr, { name: b.name, role, team: team as string | null }, (ttl as number) * 1000, this.now());
    } catch (err) {
      throw new ControlError('ALT_INVALID_FIELD', (err as Error).message, 'csr');
    }
    const view: OperatorCertificate = { serial: normalizeSerial(issued.serial), name: b.name, role, team: team as string | null, notAfter: issued.notAfter, issuedAt: this.now(), issuedBy: op.name, revokedAt: null, revokedBy: null, reason: null };
    await this.store.putOperatorCertificate(view);
    return { certificate: issued.certPem, ca: this.ca.certPem, view };
  }

  async list(op: Operator): Promise<OperatorCertificate[]> {
    requireAdmin(op, 'list operator certificates');
    return await this.store.listOperatorCertificates();
  }

  async revoke(op: Operator, serialParam: string, body: unknown): Promise<OperatorCertificate> {
    requireAdmin(op, 'revoke operator certificates');
    const serial = normalizeSerial(serialParam);
    if (!/^[0-9a-f]{1,40}$/.test(serial) || serial !== serialParam.toLowerCase().replace(/^0+(?=.)/, '')) throw new ControlError('ALT_INVALID_FIELD', 'serial must be the certificate’s serial number in hexadecimal (altrace certs list)', 'serial');
    const b = (body ?? {}) as { reason?: unknown };
    if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 500)) throw new ControlError('ALT_INVALID_FIELD', 'reason must be a string of at most 500 characters', 'reason');
    const revoked = await this.store.revokeOperatorCertificate(serial, this.now(), op.name, (b.reason as string | undefined) ?? null);
    if (!revoked) throw new ControlError('ALT_CONFLICT', `certificate ${serial} is revoked already`, 'serial');
    await this.onRevoked();
    return (await this.store.listOperatorCertificates()).find((c) => c.serial === serial)!;
  }
}

export function certificateView(c: OperatorCertificate) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { serial: c.serial, name: c.name, role: c.role, team: c.team, not_after: iso(c.notAfter), issued_at: iso(c.issuedAt), issued_by: c.issuedBy, revoked_at: iso(c.revokedAt), revoked_by: c.revokedBy, reason: c.reason };
}
