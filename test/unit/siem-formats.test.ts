// SIEM formats against golden files (test/fixtures/siem/): a decision and a control-API refusal as
// RFC 5424 (octet-counted), CEF, OCSF and OpenTelemetry logs. The files are the contract a receiver's parser is written
// against; a change to them is a change to that contract. Escaping is checked on hostile values.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditRecord } from '../../agent/src/audit/records.js';
import { packageRoot } from '../../agent/src/paths.js';
import { cef, octetCounted, rfc5424 } from '../../agent/src/siem/formats.js';
import { ocsfEvent } from '../../agent/src/siem/ocsf.js';
import { otlpLogs } from '../../agent/src/siem/otlp-logs.js';

const origin = { node: 'node-a', hostname: 'worker-7', version: '0.1.0' };
const golden = (name: string) => readFileSync(join(packageRoot, 'test/fixtures/siem', name), 'utf8').replace(/\n$/, '');

const decision = {
  seq: 42,
  time_unix_ms: Date.UTC(2026, 11, 6, 12, 0, 0, 123),
  prev_leaf_hash: new Uint8Array(32),
  principal: { key_id: 'key_7', agent: 'refund-bot', team: 'payments' },
  decision: { request_id: 'req_1', provider: 'openai', operation: 'chat', model: 'gpt-4o', stream: false, outcome: 'block', reason: 'ALT_BUDGET_EXCEEDED', stage: 'budget', status: 429, cost_usd: 0, input_tokens: 0, output_tokens: 0 },
} as unknown as AuditRecord;

const control = {
  seq: 43,
  time_unix_ms: Date.UTC(2026, 11, 6, 12, 0, 1, 0),
  prev_leaf_hash: new Uint8Array(32),
  control: { operator: '(unauthenticated)', action: 'LOCKOUT', target: '10.9.7.7', status: 429, error: 'ALT_AUTH_THROTTLED' },
} as unknown as AuditRecord;

test('RFC 5424, octet-counted: a refused request and a lockout, as the golden files have them', (t) => {
  t.is(octetCounted(rfc5424(decision, origin)), golden('decision.rfc5424'));
  t.is(octetCounted(rfc5424(control, origin)), golden('lockout.rfc5424'));
  const framed = octetCounted(rfc5424(decision, origin));
  const [length, ...rest] = framed.split(' ');
  t.is(Number(length), Buffer.byteLength(rest.join(' ')), 'the count is the message’s byte length');
});

test('CEF: a refused request and a lockout, as the golden files have them', (t) => {
  t.is(cef(decision, origin), golden('decision.cef'));
  t.is(cef(control, origin), golden('lockout.cef'));
});

test('OCSF: a refused request is a Detection Finding, a lockout a failed API Activity, as the golden files have them', (t) => {
  t.deepEqual(ocsfEvent(decision, origin), JSON.parse(golden('decision.ocsf.json')));
  t.deepEqual(ocsfEvent(control, origin), JSON.parse(golden('lockout.ocsf.json')));
});

test('OTLP logs: one batch of both records, as the golden file has it', (t) => {
  t.deepEqual(otlpLogs([decision, control], origin), JSON.parse(golden('batch.otlp.json')));
});

test('hostile values cannot break out of a field: structured data, CEF header and extensions are escaped', (t) => {
  const evil = { ...control, control: { ...control.control!, operator: 'a"] [x@1 y="z', action: 'POST /keys|9|x=y\\', target: 'line\nbreak' } } as AuditRecord;
  const sd = rfc5424(evil, { ...origin, hostname: 'host name\twith spaces' });
  t.regex(sd, /operator="a\\"\\] \[x@1 y=\\"z"/, 'quote and bracket escaped inside the SD-PARAM');
  t.regex(sd, /^<\d+>1 \S+ host_name_with_spaces altrace - control /, 'the header field has no spaces');
  const line = cef(evil, origin);
  t.regex(line, /\|POST \/keys\\\|9\\\|x=y\\\\\|/, 'pipes and backslashes escaped in the header');
  t.regex(line, /act=POST \/keys\|9\|x\\=y\\\\ /, 'equals and backslash escaped in an extension');
  t.regex(line, /duser=line\\nbreak/);
});
