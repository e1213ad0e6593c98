// The audit log shipped as OCSF events and as OpenTelemetry logs to an HTTPS receiver (issue 24,
// item 6): the receiver refuses for a while (503), the records wait in the audit log, and when it
// accepts again every record arrives once, in order, each naming its node and sequence number.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SiemReceiver } from '../fixtures/siem-receiver.js';
import { eventually } from '../helpers/harness.js';
import { spawnAgent } from '../helpers/process.js';

const ADMIN = 'siem-http-admin-token-0000001';

test('OCSF and OTLP sinks: an ingest down for a while loses nothing; every record arrives once, in order; the token is sent', async (t) => {
  const ocsf = await new SiemReceiver().start();
  const otlp = await new SiemReceiver().start();
  t.teardown(() => Promise.all([ocsf.close(), otlp.close()]));
  const dir = mkdtempSync(join(tmpdir(), 'altrace-siem-http-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'token'), 'siem-ingest-token\n');
  writeFileSync(
    join(dir, 'altrace.yaml'),
    [
      'siem:',
      '  sinks:',
      '    - name: lake',
      '      type: ocsf',
      `      url: ${ocsf.url}/ingest`,
      `      ca_file: ${ocsf.caFile}`,
      `      token_file: ${join(dir, 'token')}`,
      '    - name: otel',
      '      type: otlp',
      `      url: ${otlp.url}/v1/logs`,
      `      ca_file: ${otlp.caFile}`,
      'fleet:',
      '  node_name: http-node',
      '',
    ].join('\n'),
  );
  const agent = await spawnAgent({ ALTRACE_CONFIG: join(dir, 'altrace.yaml'), ALTRACE_STATE_DIR: join(dir, 'state'), ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_CONTROL_CALLS_PER_MINUTE: '0' });
  t.teardown(() => agent.stop());
  const calls = async (n: number) => {
    for (let i = 0; i < n; i++) await fetch(`${agent.controlUrl}/api/v1/keys`, { headers: { authorization: `Bearer ${i % 4 === 3 ? 'wrong-token' : ADMIN}` } });
  };
  const ocsfSeqs = () => (ocsf.batches as { metadata: { sequence: number } }[][]).flat().map((e) => e.metadata.sequence);
  const otlpSeqs = () =>
    (otlp.batches as { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { intValue?: string } }[] }[] }[] }[] }[])
      .flatMap((b) => b.resourceLogs[0]!.scopeLogs[0]!.logRecords)
      .map((r) => Number(r.attributes.find((a) => a.key === 'altrace.seq')!.value.intValue));

  await calls(10);
  await eventually(() => ocsfSeqs().length >= 10 && otlpSeqs().length >= 10, 10_000, 'the first records arrive');
  ocsf.refusing = true;
  otlp.refusing = true;
  await calls(20);
  await eventually(() => ocsf.refused > 0 && otlp.refused > 0, 10_000, 'the ingest refuses');
  ocsf.refusing = false;
  otlp.refusing = false;
  await eventually(() => ocsfSeqs().length >= 30 && otlpSeqs().length >= 30, 40_000, 'everything arrives once the ingest is back');
  for (const seqs of [ocsfSeqs(), otlpSeqs()]) {
    t.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i), 'each once, in order, none missing');
  }
  const events = (ocsf.batches as Record<string, unknown>[][]).flat();
  t.true(events.every((e) => (e.class_uid === 6003 || e.class_uid === 2004) && e.type_uid === (e.class_uid as number) * 100 + (e.activity_id as number)), 'OCSF classes with their type_uid');
  t.true(events.some((e) => e.class_uid === 6003 && e.status_detail === 'ALT_UNAUTHENTICATED' && e.status_id === 2), 'a refused call is a failed API Activity');
  t.true(events.every((e) => (e.metadata as { uid: string }).uid.startsWith('http-node:')));
  t.true(ocsf.authorizations.every((a) => a === 'Bearer siem-ingest-token'), 'the token from token_file');
});
