// Enrollment and renewal (docs/fleet.md, "Enrollment and identity"): a node presents a bootstrap
// credential and a certificate request, and gets a short-lived client certificate from the
// fleet CA; before it expires, it asks again over its mutual-TLS connection.
import { ControlError } from '../errors.js';
import type { FleetNodeService } from '../services/fleet-node-service.js';
import type { FleetIdentityStore } from '../state/postgres/index.js';
import { NODE_ID } from './certificate-names.js';
import { EnrollmentError, type FleetCa } from './fleet-ca.js';

/**
 * Says whether a bootstrap credential may enroll a node. Today an operator's enrollment token;
 * in Kubernetes, the pod's projected service-account token checked by a TokenReview.
 */
export interface BootstrapVerifier {
  /** What admitted the node (for the log and the audit), or null when the credential is refused. */
  verify(credential: string): Promise<{ admittedBy: string } | null>;
}

/** Enrollment tokens made with `altrace nodes token create`, refused once expired or deleted. */
export class EnrollmentTokenVerifier implements BootstrapVerifier {
  constructor(private readonly nodes: FleetNodeService) {}

  async verify(credential: string): Promise<{ admittedBy: string } | null> {
    const t = await this.nodes.verifyEnrollmentToken(credential);
    return t ? { admittedBy: `enrollment-token:${t.name}` } : null;
  }
}

export interface EnrollReply {
  node_id: string;
  certificate: string;
  ca: string;
  expires_at: string;
}

const FIELDS = new Set(['node_name', 'csr']);

/** The node's name and request from an enrollment body; every refusal names the field. */
export function parseEnrollBody(body: unknown): { nodeName: string; csr: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
  if (typeof b.node_name !== 'string' || !NODE_ID.test(b.node_name.toLowerCase())) {
    throw new ControlError('ALT_INVALID_FIELD', "node_name is required: 1–63 letters, digits, '.', '_', '-', starting with a letter or digit", 'node_name');
  }
  if (typeof b.csr !== 'string' || b.csr.length > 16_384) throw new ControlError('ALT_INVALID_FIELD', 'csr is required: a PEM PKCS#10 request', 'csr');
  return { nodeName: b.node_name, csr: b.csr };
}

/** A node's id: its name in lower case (names are what operators see, ids what certificates carry). */
export const nodeIdFor = (name: string): string => name.toLowerCase();

export class Enrollment {
  constructor(
    private readonly ca: FleetCa,
    private readonly fleet: FleetIdentityStore,
    private readonly verifier: BootstrapVerifier,
    private readonly certLifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A first certificate, for a node that presents a bootstrap credential. */
  async enroll(credential: string | null, body: unknown): Promise<EnrollReply & { admittedBy: string }> {
    if (!credential) throw new ControlError('ALT_FLEET_UNAUTHENTICATED', 'send the bootstrap token: Authorization: Bearer <token> (altrace nodes token create)');
    const admitted = await this.verifier.verify(credential);
    if (!admitted) throw new ControlError('ALT_FLEET_UNAUTHENTICATED', 'unknown or expired bootstrap token: ask an operator for a current one (altrace nodes token create)');
    const { nodeName, csr } = parseEnrollBody(body);
    return { ...(await this.#issue(nodeIdFor(nodeName), nodeName, csr)), admittedBy: admitted.admittedBy };
  }

  /** A fresh certificate for a node already holding a valid one (checked by the TLS layer). */
  async renew(nodeId: string, body: unknown): Promise<EnrollReply> {
    const node = await this.fleet.getNode(nodeId);
    if (!node || node.removedAt !== null) throw new ControlError('ALT_FLEET_UNAUTHENTICATED', `node ${nodeId} was removed: it must enroll again with a bootstrap token`);
    const { csr } = parseEnrollBody({ node_name: node.name, ...(body as object) });
    return this.#issue(nodeId, node.name, csr);
  }

  async #issue(id: string, name: string, csr: string): Promise<EnrollReply> {
    const at = this.now();
    let issued;
    try {
      issued = await this.ca.issueNode(csr, { id, name }, this.certLifetimeMs, at);
    } catch (err) {
      if (err instanceof EnrollmentError) throw new ControlError('ALT_ENROLLMENT_INVALID', err.message, 'csr');
      throw err;
    }
    // Recorded before the certificate leaves: a node the store does not know cannot open a stream.
    await this.fleet.putNode({ id, name, certSerial: issued.serial, certExpiresAt: issued.notAfter, at });
    return { node_id: id, certificate: issued.certPem, ca: this.ca.certPem, expires_at: new Date(issued.notAfter).toISOString() };
  }
}
