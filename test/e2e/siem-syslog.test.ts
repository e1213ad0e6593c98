// The audit log shipped to a SIEM that loses nothing (issue 24, item 6): Debian's rsyslog over TLS
// as the receiver. It is stopped for a while: records wait in the audit log on disk; it is
// started again: every record arrives, once, in order, each naming its node and sequence number
// (the receiver counts them).
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rsyslog, RSYSLOG_SKIP } from '../fixtures/rsyslog.js';
import { eventually } from '../helpers/harness.js';
import { spawnAgent } from '../helpers/process.js';

const ADMIN = 'siem-admin-token-000000000001';

const seqOf = (line: string) => Number(/seq="(\d+)"/.exec(line)?.[1]);

if (RSYSLOG_SKIP) {
  console.error(`siem-syslog: skipped: ${RSYSLOG_SKIP}`);
  test.skip(`SIEM over syslog/TLS (cannot run here: ${RSYSLOG_SKIP})`, () => {});
} else {
  test('rsyslog stopped for a while: records wait on disk; restarted: every record delivered once, in order, with node and sequence number', async (t) => {
    const rsyslog = await new Rsyslog().start();
    t.teardown(() => rsyslog.close());
    const dir = mkdtempSync(join(tmpdir(), 'altrace-siem-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'altrace.yaml'),
      ['siem:', '  sinks:', '    - name: soc', '      type: syslog', `      address: 127.0.0.1:${rsyslog.port}`, `      ca_file: ${rsyslog.caFile}`, '      server_name: localhost', '      confirm_ms: 300', 'fleet:', '  node_name: siem-node', ''].join('\n'),
    );
    const agent = await spawnAgent({ ALTRACE_CONFIG: join(dir, 'altrace.yaml'), ALTRACE_STATE_DIR: join(dir, 'state'), ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_CONTROL_CALLS_PER_MINUTE: '0' });
    t.teardown(() => agent.stop());
    // Each control-API call is an audit record; a refused one (a wrong token) too.
    const calls = async (n: number) => {
      for (let i = 0; i < n; i++) await fetch(`${agent.controlUrl}/api/v1/keys`, { headers: { authorization: `Bearer ${i % 5 === 4 ? 'wrong-token' : ADMIN}` } });
    };
    const metric = async (name: string) => Number(new RegExp(`^${name}\\{sink="soc"\\} (\\d+)`, 'm').exec(await (await fetch(`${agent.controlUrl}/metrics`)).text())?.[1]);

    await calls(20);
    await eventually(async () => rsyslog.received().length >= 20, 10_000, 'the first records arrive');
    await eventually(async () => (await metric('altrace_siem_delivered_seq')) >= Math.max(...rsyslog.received().map(seqOf)), 5000, 'confirmed');
    const first = rsyslog.received();
    t.regex(first[0]!, /^\[altrace@32473 node="siem-node" seq="\d+" kind="control"/);

    await rsyslog.stop();
    await calls(30);
    await eventually(async () => (await metric('altrace_siem_lag_records')) >= 30, 5000, 'the records wait in the spool while the receiver is down');

    await rsyslog.start();
    await eventually(async () => (await metric('altrace_siem_lag_records')) === 0 && rsyslog.received().length >= 50, 40_000, 'everything arrives once the receiver is back');
    const seqs = rsyslog.received().map(seqOf);
    const unique = [...new Set(seqs)];
    t.deepEqual(unique, [...unique].sort((a, b) => a - b), 'in order');
    t.deepEqual(unique, Array.from({ length: unique.length }, (_, i) => unique[0]! + i), 'no record missing');
    t.is(seqs.length, unique.length, 'each once');
    t.true(unique.length >= 50);
    t.true(rsyslog.received().some((l) => /outcome="refused" reason="ALT_UNAUTHENTICATED"/.test(l)), 'refused calls (security events) are shipped too');
  });
}
