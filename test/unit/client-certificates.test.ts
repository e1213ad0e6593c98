// Who a client certificate names (docs/security.md, "Mutual TLS"): the subject as Node's TLS
// socket reports it. Each way a subject can fail to name an operator is refused, saying which.
import test from 'ava';
import type { PeerCertificate } from 'node:tls';
import { operatorOf } from '../../agent/src/control/client-certificates.js';

const peer = (subject: Record<string, string | string[]>, san?: string) => ({ subject, subjectaltname: san, serialNumber: '00AB12' }) as unknown as PeerCertificate;

test('CN (or the operator URI SAN), OU as the role, O as the team; an admin has no team; the serial normalized', (t) => {
  t.deepEqual(operatorOf(peer({ CN: 'pat', OU: 'operator', O: 'payments' })), { name: 'pat', role: 'operator', team: 'payments', serial: 'ab12' });
  t.deepEqual(operatorOf(peer({ CN: 'ignored', OU: 'admin', O: 'whatever' }, 'URI:altrace://operator/root')), { name: 'root', role: 'admin', team: null, serial: 'ab12' });
});

test('refused: no role, an unknown role, a repeated field, a team missing for a team role, a fleet node, a name that is not one', (t) => {
  const refuse = (p: PeerCertificate, why: RegExp) => t.regex((t.throws(() => operatorOf(p)) as Error).message, why);
  refuse(peer({ CN: 'pat' }), /OU null is not a role/);
  refuse(peer({ CN: 'pat', OU: 'superuser', O: 'x' }), /OU "superuser" is not a role/);
  refuse(peer({ CN: 'pat', OU: ['operator', 'admin'], O: 'x' }), /OU .* is not a role/);
  refuse(peer({ CN: 'pat', OU: 'operator', O: ['a', 'b'] }), /more than one team/);
  refuse(peer({ CN: 'pat', OU: 'viewer' }), /a viewer certificate names its team/);
  refuse(peer({ CN: 'node-a' }, 'URI:altrace://node/node-a'), /fleet node/);
  refuse(peer({ CN: 'bad name with spaces', OU: 'admin' }), /names no operator/);
  for (const err of [() => operatorOf(peer({ CN: 'pat' }))]) t.is((t.throws(err) as { code?: string }).code, 'ALT_CERT_INVALID');
});
