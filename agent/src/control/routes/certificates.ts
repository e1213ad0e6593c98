import { certificateView, type CertificateService } from '../../services/certificate-service.js';
import type { ControlTls } from '../control-tls.js';
import { ControlError } from '../../errors.js';
import type { ControlRoutes } from '../router.js';

/** Operators' client certificates: issued from a CSR, listed, revoked (admin); the CRL (any role that reads). */
export function certificateRoutes(routes: ControlRoutes, certs: CertificateService, tls: ControlTls | null): void {
  routes
    .add('GET', '/certificates', 'admin', async ({ operator }) => ({ status: 200, body: { certificates: (await certs.list(operator)).map(certificateView) } }))
    .add('POST', '/certificates', 'admin', async ({ operator, body, auditTarget }) => {
      const b = (await body()) as { name?: unknown; role?: unknown; team?: unknown } | null;
      if (typeof b?.name === 'string') auditTarget(`certificate:${b.name} ${String(b.role)}${typeof b.team === 'string' ? ` team:${b.team}` : ''}`);
      const { certificate, ca, view } = await certs.issue(operator, b);
      auditTarget(`certificate:${view.name} ${view.role}${view.team ? ` team:${view.team}` : ''} serial:${view.serial}`);
      return { status: 201, body: { certificate, ca, ...certificateView(view) } };
    })
    .add('POST', '/certificates/:serial/revoke', 'admin', async ({ operator, params, body, auditTarget }) => {
      auditTarget(`certificate serial:${params.serial}`);
      const revoked = await certs.revoke(operator, params.serial!, await body());
      auditTarget(`certificate serial:${revoked.serial}${revoked.name ? ` ${revoked.name}` : ''}`);
      return { status: 200, body: { revoked: certificateView(revoked) } };
    })
    .add('GET', '/certificates/crl', 'read', () => {
      const crl = tls?.crl;
      if (!crl) throw new ControlError('ALT_NOT_FOUND', 'no CRL here: the control API serves no TLS with a CA of its own (control.tls)');
      return { status: 200, body: { crl } };
    });
}
