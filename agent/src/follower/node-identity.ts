// A node's identity in its fleet (docs/fleet.md, "Enrollment and identity"): a P-256 key made on
// the node (a fresh one at every renewal) and the client certificate the fleet CA signed for it,
// kept together in one file of the state directory, written whole or not at all.
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname, join } from 'node:path';
import { AltraceError } from '../errors.js';
import { writeFileDurably } from '../state/durable-file.js';
import { fleetPost, type FleetTls } from './fleet-http.js';

/** The node could not get a certificate: no bootstrap token, the control plane refused or cannot be reached. */
export class EnrollFailedError extends AltraceError {
  constructor(message: string) {
    super('ALT_FLEET_ENROLL_FAILED', message);
  }
}

export interface NodeIdentity {
  nodeId: string;
  keyPem: string;
  certPem: string;
  notBefore: number;
  notAfter: number;
}

export const identityFile = (stateDir: string): string => join(stateDir, 'fleet', 'node-identity.json');

export function readIdentity(stateDir: string): NodeIdentity | null {
  const path = identityFile(stateDir);
  if (!existsSync(path)) return null;
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as NodeIdentity;
    const cert = new X509Certificate(o.certPem);
    return { ...o, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
  } catch {
    // A damaged identity is not trusted: the node enrolls again (with its bootstrap token).
    return null;
  }
}

function writeIdentity(stateDir: string, id: NodeIdentity): void {
  writeFileDurably(identityFile(stateDir), JSON.stringify(id));
}

/** When to renew: two thirds into the certificate's life. */
export const renewAt = (id: NodeIdentity): number => id.notBefore + ((id.notAfter - id.notBefore) * 2) / 3;

async function requestCertificate(url: URL, tls: FleetTls, path: string, body: Record<string, unknown>, bearer: string | null, stateDir: string): Promise<NodeIdentity> {
  // The X.509 library loads when a certificate is asked for, not with every node that follows.
  const { createCsr, exportPrivateKey, generateKeys } = await import('../pki/x509.js');
  const keys = await generateKeys();
  const csr = await createCsr('CN=altrace node', keys);
  const reply = await fleetPost(url, path, { ...body, csr }, tls, bearer);
  if (reply.status !== 201) {
    const e = (reply.body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new EnrollFailedError(`${url.origin}${path} answered ${reply.status}${e ? ` ${e.code}: ${e.message}` : ''}`);
  }
  const r = reply.body as { node_id: string; certificate: string };
  const cert = new X509Certificate(r.certificate);
  const id = { nodeId: r.node_id, keyPem: await exportPrivateKey(keys.privateKey), certPem: r.certificate, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
  writeIdentity(stateDir, id);
  return id;
}

/** A first certificate, admitted by the bootstrap token (ALTRACE_BOOTSTRAP_TOKEN). */
export async function enroll(url: URL, caPem: string, nodeName: string, bootstrapToken: string | undefined, stateDir: string): Promise<NodeIdentity> {
  if (!bootstrapToken) throw new EnrollFailedError(`this node has no fleet certificate yet: set ALTRACE_BOOTSTRAP_TOKEN to an enrollment token (altrace nodes token create) so it can enroll with ${url.origin}`);
  try {
    return await requestCertificate(url, { ca: caPem }, '/fleet/v1/enroll', { node_name: nodeName }, bootstrapToken, stateDir);
  } catch (err) {
    if (err instanceof EnrollFailedError) throw err;
    throw new EnrollFailedError(`enrollment with ${url.origin} failed: ${(err as Error).message}`);
  }
}

/** A fresh key and certificate, asked for with the current one. */
export function renew(url: URL, caPem: string, current: NodeIdentity, stateDir: string): Promise<NodeIdentity> {
  return requestCertificate(url, { ca: caPem, key: current.keyPem, cert: current.certPem }, '/fleet/v1/renew', {}, null, stateDir);
}
