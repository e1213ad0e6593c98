// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/** Every key Altrace makes: P-256, signing with SHA-256. */
export const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const DAY_MS = 86_400_000;

export function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der as Uint8Array).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/** The DER inside one PEM block. */
export function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

export function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // a positive INTEGER
  return b.toString('hex');
}

export function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
}

export async function exportPrivateKey(key: webcrypto.CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

export function importSigningKey(pkcs8Pem: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', derOf(pkcs8Pem), ALG, false, ['sign']);
}

/** A self-signed CA certificate (path length 0: it signs leaves only), valid from a day ago. */
export async function createCaCertificate(name: string, days: number, keys: webcrypto.CryptoKeyPair, now = Date.now()): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
}

export interface LeafRequest {
  subject: string;
  names: x509.JsonGeneralName[];
  usage: 'server' | 'client';
  publicKey: webcrypto.CryptoKey;
  notBefore: number;
  notAfter: number;
}

/** A leaf the CA signs: one usage, the names it is for, never a CA itself. */
export function signLeaf(ca: { cert: x509.X509Certificate; key: webcrypto.CryptoKey }, leaf: LeafRequest): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: leaf.subject,
    issuer: ca.cert.subject,
    notBefore: new Date(leaf.notBefore),
    notAfter: new Date(leaf.notAfter),
    signingAlgorithm: ALG,
    publicKey: leaf.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.SubjectAlternativeNameExtension(leaf.names),
      new x509.ExtendedKeyUsageExtension([leaf.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      new x509.BasicConstraintsExtension(false),
    ],
  });
}

/** A PKCS#10 request for `subject`, signed with the key it carries: what a node sends to enroll. */
export async function createCsr(subject: string, keys: webcrypto.CryptoKeyPair): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: ALG });
  return csr.toString('pem') + '\n';
}

/**
 * A CA kept as two files in `dir` (ca.key 0600, ca.pem), made on first use: its certificate and
 * its signing key. Key first on disk: a certificate there always has its key.
 */
export async function openCaFiles(dir: string, subject: string, days: number): Promise<{ certPem: string; certPath: string; key: webcrypto.CryptoKey }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'ca.key');
  const certPath = join(dir, 'ca.pem');
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    const keys = await generateKeys();
    const cert = await createCaCertificate(subject, days, keys);
    writeFileSync(keyPath, await exportPrivateKey(keys.privateKey), { mode: 0o600 });
    writeFileSync(certPath, cert.toString('pem') + '\n', { mode: 0o644 });
  }
  return { certPem: readFileSync(certPath, 'utf8'), certPath, key: await importSigningKey(readFileSync(keyPath, 'utf8')) };
}
