// The control API over TLS, with client certificates (docs/security.md, "Mutual TLS"). The
// server asks every client for a certificate and decides in the request handler, so that each
// refusal is an answer naming what was wrong and an audit record, not a bare TLS alert. The
// revoked serials come from the store (every replica reads them back each second); where the
// control CA is this agent's (the fleet CA, or a single node's own), a CRL signed by it is also
// loaded into the TLS context, so OpenSSL itself fails a revoked certificate's verification.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from '../../../proxy/src/index.js';
import type { FleetCa } from '../control-plane/fleet-ca.js';
import { ControlError } from '../errors.js';
import type { Operator } from '../services/operator.js';
import type { ServiceStore } from '../state/service-store.js';
import { normalizeSerial } from '../state/store.js';
import { operatorOf, presentedCertificate } from './client-certificates.js';

export type ClientAuth = 'none' | 'optional' | 'required';

export interface ControlTlsOptions {
  clientAuth: ClientAuth;
  /** The server's certificate chain and key (PEM). */
  cert: string;
  key: string;
  /** The CA client certificates must chain to (PEM). */
  clientCa: string;
  /** The control CA when it is this agent's: it issues operator certificates and signs the CRL. */
  ca: FleetCa | null;
  /** A CRL the operator keeps for an external client CA, read again when it changes. */
  crlFile?: string;
  store: Pick<ServiceStore, 'listOperatorCertificates'>;
  logger: Logger;
  /** How often the revoked serials are read back from the store (default 1 s). */
  refreshMs?: number;
}

const CRL_LIFETIME_MS = 7 * 86_400_000;

export class ControlTls {
  readonly clientAuth: ClientAuth;
  #revoked = new Set<string>();
  #revokedKey = '';
  #crl: string | null = null;
  #crlMadeAt = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #servers = new Set<Server>();
  readonly counts = { refreshes: 0, failures: 0 };

  constructor(private readonly o: ControlTlsOptions) {
    this.clientAuth = o.clientAuth;
  }

  /** Reads the revoked serials (and makes the CRL) once, then every refreshMs. Fails closed: a first read that fails stops the start. */
  async start(): Promise<void> {
    await this.o.store.listOperatorCertificates();
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh().catch(() => {}), this.o.refreshMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** The options of https.createServer: a certificate is asked for, never demanded at the handshake. */
  serverOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    return { ...this.#context(), requestCert: this.clientAuth !== 'none', rejectUnauthorized: false };
  }

  /** A server whose TLS context follows the revocations. */
  attach(server: Server): void {
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
  }

  /** The control CA, when this agent holds it (not an external client CA): it issues operator certificates. */
  get ca(): FleetCa | null {
    return this.o.ca;
  }

  /** The current CRL (PEM), when this agent holds the control CA. */
  get crl(): string | null {
    return this.#crl;
  }

  isRevoked(serial: string): boolean {
    return this.#revoked.has(normalizeSerial(serial));
  }

  /**
   * The operator a request's certificate names, null when it presented none and may use a token
   * instead; a ControlError (ALT_CERT_REQUIRED, ALT_CERT_INVALID, ALT_CERT_REVOKED) otherwise.
   */
  operatorFor(socket: unknown): (Operator & { serial: string }) | null {
    if (this.clientAuth === 'none') return null;
    const peer = presentedCertificate(socket);
    if (!peer) {
      if (this.clientAuth === 'required') throw new ControlError('ALT_CERT_REQUIRED', 'this control API requires a client certificate (control.tls.client_auth: required)');
      return null;
    }
    const s = socket as { authorized?: boolean; authorizationError?: Error | string };
    if (this.isRevoked(peer.serialNumber ?? '')) throw new ControlError('ALT_CERT_REVOKED', `client certificate ${normalizeSerial(peer.serialNumber ?? '')} is revoked`);
    if (!s.authorized) {
      const why = String((s.authorizationError as { code?: string } | undefined)?.code ?? s.authorizationError ?? 'not verified');
      if (why === 'CERT_REVOKED') throw new ControlError('ALT_CERT_REVOKED', `client certificate ${normalizeSerial(peer.serialNumber ?? '')} is revoked (CRL)`);
      throw new ControlError('ALT_CERT_INVALID', `client certificate ${normalizeSerial(peer.serialNumber ?? '')} was not accepted: ${why}`);
    }
    return operatorOf(peer);
  }

  /** Reads the revoked serials; when they changed (or the CRL nears its next update), the TLS context is made again. */
  async refresh(): Promise<void> {
    let serials: { serial: string; revokedAt: number }[];
    try {
      serials = (await this.o.store.listOperatorCertificates()).filter((c) => c.revokedAt !== null).map((c) => ({ serial: c.serial, revokedAt: c.revokedAt! }));
    } catch (err) {
      this.counts.failures++;
      // The last list read stays in force: a store that cannot be read never un-revokes anything.
      this.o.logger.warn({ err: (err as Error).message }, 'revoked certificates not read; the last list read stays in force');
      return;
    }
    this.counts.refreshes++;
    const key = serials.map((s) => s.serial).sort().join(',');
    const stale = this.o.ca !== null && Date.now() - this.#crlMadeAt > CRL_LIFETIME_MS / 2;
    if (key === this.#revokedKey && !stale && this.#crl !== null) return;
    this.#revoked = new Set(serials.map((s) => s.serial));
    this.#revokedKey = key;
    if (this.o.ca) {
      this.#crl = await this.o.ca.crl(serials, CRL_LIFETIME_MS);
      this.#crlMadeAt = Date.now();
    }
    for (const server of this.#servers) server.setSecureContext(this.#context());
  }

  #context(): SecureContextOptions {
    const crl = this.#crl ?? (this.o.crlFile ? readFileSync(this.o.crlFile, 'utf8') : undefined);
    return { cert: this.o.cert, key: this.o.key, ...(this.clientAuth !== 'none' ? { ca: this.o.clientCa } : {}), ...(crl && this.clientAuth !== 'none' ? { crl } : {}), minVersion: 'TLSv1.2' };
  }
}
