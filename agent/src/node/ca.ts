import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { DAY_MS, exportPrivateKey, generateKeys, importSigningKey, openCaFiles, signLeaf, x509 } from '../pki/x509.js';

const CA_DAYS = 3650;
const LEAF_DAYS = 7;
const MAX_LEAVES = 1000;

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
    const { certPem, certPath, key } = await openCaFiles(dir, 'CN=Altrace node CA, O=Altrace', CA_DAYS);
    return new NodeCa(certPem, certPath, new x509.X509Certificate(certPem), key);
  }

  /**
   * The fleet's interception CA from files (a Secret's tls.crt and tls.key, e.g. cert-manager's),
   * so one CA that pods trust serves every node. Refused, naming the file, unless the certificate
   * is a CA valid now and the key is its ECDSA P-256 key.
   */
  static async fromFiles(certFile: string, keyFile: string, now = Date.now()): Promise<NodeCa> {
    const read = (file: string, field: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`${field} ${file}: ${(err as Error).message}`, field);
      }
    };
    const certPem = read(certFile, 'node.ca_cert_file');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      throw new ConfigError(`node.ca_cert_file ${certFile} is not a PEM certificate: ${(err as Error).message}`, 'node.ca_cert_file');
    }
    if (!cert.ca) throw new ConfigError(`node.ca_cert_file ${certFile} is not a CA certificate (basicConstraints CA:TRUE): it cannot sign the per-host certificates`, 'node.ca_cert_file');
    if (Date.parse(cert.validTo) <= now || Date.parse(cert.validFrom) > now) throw new ConfigError(`node.ca_cert_file ${certFile} is not valid now (${cert.validFrom} to ${cert.validTo})`, 'node.ca_cert_file');
    let key: KeyObject;
    try {
      key = createPrivateKey(read(keyFile, 'node.ca_key_file'));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`node.ca_key_file ${keyFile} is not a PEM private key: ${(err as Error).message}`, 'node.ca_key_file');
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new ConfigError(`node.ca_key_file ${keyFile} is a ${key.asymmetricKeyType} key${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ''}; the interception CA's key must be ECDSA P-256 (cert-manager: privateKey.algorithm ECDSA, size 256)`, 'node.ca_key_file');
    }
    if (!cert.checkPrivateKey(key)) throw new ConfigError(`node.ca_key_file ${keyFile} is not the key of the certificate in node.ca_cert_file`, 'node.ca_key_file');
    const caKey = await importSigningKey(key.export({ type: 'pkcs8', format: 'pem' }) as string);
    return new NodeCa(certPem.endsWith('\n') ? certPem : `${certPem}\n`, certFile, new x509.X509Certificate(certPem), caKey);
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
    const keys = await generateKeys();
    const now = Date.now();
    const notAfter = now + LEAF_DAYS * DAY_MS;
    const leaf = await signLeaf(
      { cert: this.caCert, key: this.caKey },
      {
        subject: `CN=${isIP(name) ? name : name.replace(/[,=+<>#;"\\]/g, '')}`,
        names: [{ type: isIP(name) ? 'ip' : 'dns', value: name }],
        usage: 'server',
        publicKey: keys.publicKey,
        notBefore: now - 3_600_000,
        notAfter,
      },
    );
    const key = await exportPrivateKey(keys.privateKey);
    // A chain the client can verify: the leaf, then the CA it trusts.
    const context = createSecureContext({ key, cert: leaf.toString('pem') + '\n' + this.certPem, minVersion: 'TLSv1.2' });
    return { context, notAfter };
  }

  /** For tests and status: the CA certificate as node parses it. */
  certificate(): X509Certificate {
    return new X509Certificate(this.certPem);
  }
}
