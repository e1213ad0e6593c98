import type { webcrypto } from 'node:crypto';
import { AltraceError } from '../errors.js';
import { DAY_MS, createCaCertificate, exportPrivateKey, generateKeys, importSigningKey, openCaFiles, pem, signLeaf, x509 } from '../pki/x509.js';
import type { FleetIdentityStore } from '../state/postgres/index.js';
import { NODE_ID, NODE_URI, OPERATOR_URI } from './certificate-names.js';
import { seal, unseal } from './seal.js';

const CA_DAYS = 3650;

/** A node's certificate request that cannot be signed: not a CSR, a bad signature, a bad node id. */
export class EnrollmentError extends AltraceError {
  constructor(message: string) {
    super('ALT_ENROLLMENT_INVALID', message);
  }
}

export interface ServerCredentials {
  key: string;
  /** The leaf, then the CA. */
  cert: string;
  ca: string;
  minVersion: 'TLSv1.3';
}

export interface IssuedCertificate {
  certPem: string;
  serial: string;
  notAfter: number;
}


/**
 * The control plane's certificate authority (docs/fleet.md, "Enrollment and identity"). One per
 * fleet, kept in PostgreSQL with its key sealed under ALTRACE_FLEET_CA_KEY, made by the first
 * replica that starts. It signs each node's client certificate (the node keeps its key; the CA
 * sees only the request) and each replica's server certificate, so nodes and replicas trust
 * each other through this one certificate.
 */
export class FleetCa {
  private constructor(
    readonly certPem: string,
    private readonly cert: x509.X509Certificate,
    private readonly key: webcrypto.CryptoKey,
  ) {}

  static async open(store: FleetIdentityStore, secret: string): Promise<FleetCa> {
    const stored = await store.loadOrCreateCa(async () => {
      const keys = await generateKeys();
      const cert = await createCaCertificate('CN=Altrace fleet CA, O=Altrace', CA_DAYS, keys);
      return { certPem: cert.toString('pem') + '\n', keySealed: seal(Buffer.from(await exportPrivateKey(keys.privateKey)), secret) };
    });
    const key = await importSigningKey(unseal(stored.keySealed, secret).toString('utf8'));
    return new FleetCa(stored.certPem, new x509.X509Certificate(stored.certPem), key);
  }

  /**
   * A single node's own CA for its control API (docs/security.md, "Mutual TLS"): a P-256 key and
   * certificate in `dir` (key 0600), made on first use — what the fleet CA is to a control plane.
   */
  static async openLocal(dir: string): Promise<FleetCa> {
    const { certPem, key } = await openCaFiles(dir, 'CN=Altrace control CA, O=Altrace', CA_DAYS);
    return new FleetCa(certPem, new x509.X509Certificate(certPem), key);
  }

  /**
   * Signs an operator's client certificate from its PKCS#10 request: the identity is in the
   * subject (CN the name, OU the role, O the team) and in a URI SAN; the key never leaves the operator.
   */
  async issueOperator(csrPem: string, op: { name: string; role: string; team: string | null }, lifetimeMs: number, now = Date.now()): Promise<IssuedCertificate> {
    const publicKey = await verifiedRequestKey(csrPem);
    const subject = [`CN=${op.name}`, `OU=${op.role}`, ...(op.team ? [`O=${op.team}`] : [])].join(', ');
    const leaf = await signLeaf(
      { cert: this.cert, key: this.key },
      { subject, names: [{ type: 'url', value: OPERATOR_URI + op.name }], usage: 'client', publicKey, notBefore: now - 300_000, notAfter: now + lifetimeMs },
    );
    return { certPem: leaf.toString('pem') + '\n', serial: leaf.serialNumber, notAfter: now + lifetimeMs };
  }

  /** The revocation list of this CA (PEM): every revoked serial, valid until `nextUpdateMs` from now. */
  async crl(revoked: { serial: string; revokedAt: number }[], nextUpdateMs: number, now = Date.now()): Promise<string> {
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.cert.subject,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + nextUpdateMs),
      entries: revoked.map((r) => ({ serialNumber: r.serial.length % 2 ? `0${r.serial}` : r.serial, revocationDate: new Date(r.revokedAt) })),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams,
      signingKey: this.key,
    });
    // OpenSSL (and so Node's tls) reads the RFC 7468 label X509 CRL; the library writes CRL.
    return pem('X509 CRL', crl.rawData);
  }

  /**
   * Signs a node's client certificate from its PKCS#10 request: the request must carry a valid
   * signature (the node holds the key); the certificate names the node by a URI SAN.
   */
  async issueNode(csrPem: string, node: { id: string; name: string }, lifetimeMs: number, now = Date.now()): Promise<IssuedCertificate> {
    if (!NODE_ID.test(node.id)) throw new EnrollmentError(`node id ${JSON.stringify(node.id.slice(0, 80))} must be 1–63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit`);
    const publicKey = await verifiedRequestKey(csrPem);
    const leaf = await signLeaf(
      { cert: this.cert, key: this.key },
      { subject: `CN=${node.name.replace(/[^A-Za-z0-9 ._-]/g, '').slice(0, 64) || node.id}`, names: [{ type: 'url', value: NODE_URI + node.id }], usage: 'client', publicKey, notBefore: now - 300_000, notAfter: now + lifetimeMs },
    );
    return { certPem: leaf.toString('pem') + '\n', serial: leaf.serialNumber, notAfter: now + lifetimeMs };
  }

  /**
   * A replica's TLS: a fresh key and a server certificate for `names` (DNS names or IP
   * addresses), and the CA that client certificates must chain to — the options of
   * tls.createServer and http2.createSecureServer.
   */
  async serverCredentials(names: string[], lifetimeMs = 30 * DAY_MS, now = Date.now()): Promise<ServerCredentials> {
    const keys = await generateKeys();
    const leaf = await signLeaf(
      { cert: this.cert, key: this.key },
      { subject: 'CN=Altrace control plane', names: names.map((n) => ({ type: /^[\d.]+$|:/.test(n) ? 'ip' : 'dns', value: n })), usage: 'server', publicKey: keys.publicKey, notBefore: now - 300_000, notAfter: now + lifetimeMs },
    );
    return { key: await exportPrivateKey(keys.privateKey), cert: leaf.toString('pem') + '\n' + this.certPem, ca: this.certPem, minVersion: 'TLSv1.3' };
  }
}

/** The public key of a PKCS#10 request whose signature verifies; an EnrollmentError for anything else. */
async function verifiedRequestKey(csrPem: string): Promise<webcrypto.CryptoKey> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new EnrollmentError('csr is not a PEM-encoded PKCS#10 certificate request');
  }
  // A request altered in transit may no longer parse where verification looks (its key, its parameters).
  const valid = await csr.verify().catch(() => false);
  if (!valid) throw new EnrollmentError("the certificate request's signature does not verify: it was not made with the key it carries, or it was altered");
  try {
    return await csr.publicKey.export();
  } catch {
    throw new EnrollmentError("the certificate request's public key is not a P-256 key");
  }
}
