import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { FleetCa } from '../control-plane/fleet-ca.js';
import { UsageError } from '../errors.js';
import { createCsr, exportPrivateKey, generateKeys } from '../pki/x509.js';
import { isRole, ROLES } from '../services/roles.js';
import { normalizeSerial } from '../state/store.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const HELP = `altrace certs — operators' client certificates for an HTTPS control API (control.tls)

Usage:
  altrace certs issue NAME --role ROLE [--team TEAM] [--ttl SECONDS] --out DIR
  altrace certs issue NAME --role admin --out DIR --offline [--config FILE]
  altrace certs list
  altrace certs revoke SERIAL [--reason TEXT]
  altrace certs crl                   the control CA's revocation list (PEM)

issue makes a P-256 key here (it never leaves DIR) and asks the control CA to certify it: the
certificate names the operator (CN), its role (OU) and its team (O; none for admin). DIR gets
NAME.crt, NAME.key (0600) and ca.crt (the control CA, which the server is verified by too).
--offline signs with a single node's own control CA in <state_dir>/control-ca, without the
control API: the way to the first certificate when control.tls.client_auth is required. It is
not listed by certs list; revoke it by its serial.
Then: altrace keys list --url https://HOST:7070 --cacert DIR/ca.crt --cert DIR/NAME.crt --cert-key DIR/NAME.key
(or ALTRACE_URL, ALTRACE_CA_FILE, ALTRACE_CERT_FILE, ALTRACE_CERT_KEY_FILE).
revoke: every replica refuses the certificate within seconds (ALT_CERT_REVOKED).
Options: --json, --url URL, --token TOKEN, --cacert, --cert, --cert-key. Roles: ${ROLES.join(', ')}.
Exit codes: 0 ok, 1 refused, 2 usage error.
`;

export async function certsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { role: { type: 'string' }, team: { type: 'string' }, ttl: { type: 'string' }, out: { type: 'string' }, reason: { type: 'string' }, offline: { type: 'boolean' }, config: { type: 'string' }, ...CONTROL_OPTIONS },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = printer(values.json);
  const [sub, arg] = positionals;
  switch (sub) {
    case 'issue': {
      if (!arg) throw new UsageError('issue needs the operator’s NAME');
      if (!isRole(values.role)) throw new UsageError(`issue needs --role, one of ${ROLES.join(', ')}`);
      if (!values.out) throw new UsageError('issue needs --out DIR (where the key and the certificate are written)');
      const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
      if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 60)) throw new UsageError('--ttl must be a whole number of seconds, at least 60');
      const keys = await generateKeys();
      const csr = await createCsr(`CN=${arg}`, keys);
      let issued: { certificate: string; ca: string; serial: string; not_after: string | null };
      if (values.offline) {
        if (values.role !== 'admin' && !values.team) throw new UsageError(`a ${values.role} certificate needs --team`);
        const config = loadConfig({ file: values.config, env: process.env });
        const ca = await FleetCa.openLocal(join(config.state_dir, 'control-ca'));
        const lifetime = (ttl ?? 90 * 86_400) * 1000;
        const c = await ca.issueOperator(csr, { name: arg, role: values.role, team: values.role === 'admin' ? null : (values.team ?? null) }, lifetime);
        issued = { certificate: c.certPem, ca: ca.certPem, serial: normalizeSerial(c.serial), not_after: new Date(c.notAfter).toISOString() };
      } else {
        issued = await call(controlTarget(values), 'POST', '/certificates', { csr, name: arg, role: values.role, ...(values.team ? { team: values.team } : {}), ...(ttl !== undefined ? { ttl_s: ttl } : {}) });
      }
      mkdirSync(values.out, { recursive: true });
      // Key first: a certificate on disk always has its key.
      writeFileSync(join(values.out, `${arg}.key`), await exportPrivateKey(keys.privateKey), { mode: 0o600 });
      writeFileSync(join(values.out, `${arg}.crt`), issued.certificate);
      writeFileSync(join(values.out, 'ca.crt'), issued.ca);
      out({ serial: issued.serial, not_after: issued.not_after, files: [`${arg}.crt`, `${arg}.key`, 'ca.crt'].map((f) => join(values.out!, f)) }, `issued ${arg} (${values.role}${values.team ? ` of team ${values.team}` : ''}) serial ${issued.serial}, valid until ${issued.not_after}\n  ${join(values.out, `${arg}.crt`)}  ${join(values.out, `${arg}.key`)}  ${join(values.out, 'ca.crt')}`);
      return 0;
    }
    case 'list': {
      const data = await call(controlTarget(values), 'GET', '/certificates');
      const rows = (data.certificates as { serial: string; name: string | null; role: string | null; team: string | null; not_after: string | null; revoked_at: string | null }[]).map(
        (c) => `${c.serial}  ${c.name ?? '(not issued here)'}  ${c.role ?? ''}${c.team ? `  team=${c.team}` : ''}  until ${c.not_after ?? '-'}${c.revoked_at ? `  REVOKED ${c.revoked_at}` : ''}`,
      );
      out(data, rows.join('\n') || '(no certificates)');
      return 0;
    }
    case 'revoke': {
      if (!arg) throw new UsageError('revoke needs the certificate’s SERIAL (altrace certs list)');
      const data = await call(controlTarget(values), 'POST', `/certificates/${encodeURIComponent(arg)}/revoke`, values.reason ? { reason: values.reason } : {});
      out(data, `revoked ${data.revoked.serial}${data.revoked.name ? ` (${data.revoked.name})` : ''}: refused by every replica within seconds`);
      return 0;
    }
    case 'crl': {
      const data = await call(controlTarget(values), 'GET', '/certificates/crl');
      out(data, String(data.crl).trimEnd());
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown certs command ${sub}` : 'certs needs a command: issue, list, revoke or crl');
  }
}
