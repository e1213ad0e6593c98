// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const LEAF_DAYS = 7;
const MAX_LEAVES = 1000;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // a positive INTEGER
  return b.toString('hex');
}

/**
 * The node CA: a P-256 key and certificate kept in the state directory (key 0600), created on
 * first use. Agents that trust its certificate can have their TLS to a provider terminated by
 * the transparent listener; each name (SNI, or the original destination's address when the
 * client sent none) gets a short-lived leaf, made once and cached.
 */
export class NodeCa {
  readonly #leaves = new Map<string, Promise<{ context: SecureContext; notAfter: number }>>();

  private constructor(
    readonly certPem: string,
    readonly certPath: string,
    private readonly caCert: x509.X509Certificate,
    private readonly caKey: webcrypto.CryptoKey,
  ) {}

  static async open(dir: string): Promise<NodeCa> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keyPath = join(dir, 'ca.key');
    const certPath = join(dir, 'ca.pem');
    if (!existsSync(keyPath) || !existsSync(certPath)) {
      const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
      const now = Date.now();
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: 'CN=Altrace node CA, O=Altrace',
        notBefore: new Date(now - DAY_MS),
        notAfter: new Date(now + CA_DAYS * DAY_MS),
        signingAlgorithm: ALG,
        keys,
        extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
      });
      // Key first: a certificate on disk always has its key.
      writeFileSync(keyPath, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), { mode: 0o600 });
      writeFileSync(certPath, cert.toString('pem') + '\n', { mode: 0o644 });
    }
    const certPem = readFileSync(certPath, 'utf8');
    const der = Buffer.from(readFileSync(keyPath, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const caKey = await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
    return new NodeCa(certPem, certPath, new x509.X509Certificate(certPem), caKey);
  }

  /** The TLS context for a name: a DNS name or an IP address. */
  contextFor(name: string): Promise<SecureContext> {
    const cached = this.#leaves.get(name);
    const fresh = cached?.then((l) => (l.notAfter - Date.now() > DAY_MS ? l : null));
    return (fresh ?? Promise.resolve(null)).then((l) => {
      if (l) return l.context;
      if (this.#leaves.size >= MAX_LEAVES) this.#leaves.delete(this.#leaves.keys().next().value!);
      const made = this.#issue(name);
      this.#leaves.set(name, made);
      made.catch(() => this.#leaves.delete(name));
      return made.then((m) => m.context);
    });
  }

  async #issue(name: string): Promise<{ context: SecureContext; notAfter: number }> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const now = Date.now();
    const notAfter = now + LEAF_DAYS * DAY_MS;
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${isIP(name) ? name : name.replace(/[,=+<>#;"\\]/g, '')}`,
      issuer: this.caCert.subject,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(notAfter),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.caKey,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: isIP(name) ? 'ip' : 'dns', value: name }]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.BasicConstraintsExtension(false),
      ],
    });
    const key = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    // A chain the client can verify: the leaf, then the CA it trusts.
    const context = createSecureContext({ key, cert: leaf.toString('pem') + '\n' + this.certPem, minVersion: 'TLSv1.2' });
    return { context, notAfter };
  }

  /** For tests and status: the CA certificate as node parses it. */
  certificate(): X509Certificate {
    return new X509Certificate(this.certPem);
  }
}
