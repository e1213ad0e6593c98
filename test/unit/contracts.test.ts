import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { stringify as stringifyYaml } from 'yaml';
import { classifyTool } from '../../proxy/src/contracts/action-levels.js';
import { compileContract, ContractError } from '../../proxy/src/contracts/compile.js';
import type { ContractDocument } from '../../proxy/src/contracts/document.js';
import { EvidenceLedger, evidenceFromHistory, evidenceOf, missingEvidence } from '../../proxy/src/contracts/evidence.js';
import { checkRequest, checkToolCall } from '../../proxy/src/contracts/evaluate.js';
import { RateBuckets } from '../../proxy/src/contracts/rate.js';
import { classOf } from '../../proxy/src/chain/stages/data-ceiling.js';
import { ContractSet } from '../../proxy/src/contracts/set.js';
import { emptyCall, type CallView } from '../../proxy/src/core/call-view.js';
import { loadContract, loadContracts } from '../../agent/src/policy/load.js';
import { PolicyError } from '../../agent/src/errors.js';

const base: ContractDocument = { contract: 'c', version: 1, applies_to: { agents: ['a'] } };
const compile = (extra: Partial<ContractDocument>) => compileContract({ ...base, ...extra }, 'test.yaml');

test('default action levels: the most dangerous verb in the name decides; parameters that carry code make it execute; unknown is execute', (t) => {
  const table: [string, unknown, string][] = [
    ['lookup_order', undefined, 'read'],
    ['getWeather', undefined, 'read'],
    ['search-docs', undefined, 'read'],
    ['issue_refund', undefined, 'write'],
    ['sendEmail', undefined, 'write'],
    ['delete_user', undefined, 'delete'],
    ['get_and_delete_user', undefined, 'delete'],
    ['purgeCache', undefined, 'delete'],
    ['run_query', undefined, 'execute'],
    ['bash', undefined, 'execute'],
    ['get_result', { properties: { code: { type: 'string' } } }, 'execute'],
    ['frobnicate', undefined, 'execute'],
  ];
  for (const [name, schema, level] of table) t.is(classifyTool(name, schema) as string, level, name);
});

test('contradictions and cycles are refused with the path to the problem', (t) => {
  const refused = (extra: Partial<ContractDocument>, field: string, message: RegExp) => {
    const err = t.throws(() => compile(extra), { instanceOf: ContractError });
    t.is(err!.field, field);
    t.regex(err!.message, message);
  };
  refused({ tools: { delete_user: 'delete' }, levels: ['read'] }, 'tools.delete_user', /could never be called/);
  refused({ tools: { issue_refund: 'write' }, evidence: [{ id: 'r', tool: 'issue_refund', requires: 'lookup_order' }] }, 'evidence.0.requires', /not an allowed tool/);
  refused({ tools: { lookup: 'read' }, evidence: [{ id: 'r', tool: 'issue_refund', requires: 'lookup' }] }, 'evidence.0.tool', /can never apply/);
  refused(
    {
      evidence: [
        { id: 'a', tool: 'approve', requires: 'review' },
        { id: 'b', tool: 'review', requires: 'approve' },
      ],
    },
    'evidence.0.requires',
    /cycle \(approve → review → approve\)/,
  );
  refused({ evidence: [{ id: 'self', tool: 'pay*', requires: 'pay_invoice' }] }, 'evidence.0.requires', /cycle/);
  refused({ evidence: [{ id: 'x', tool: 'a', requires: 'b' }, { id: 'x', tool: 'c', requires: 'b' }] }, 'evidence.1.id', /declared twice/);
  refused({ hours: { from: '09:00', to: '09:00' } }, 'hours.to', /empty/);
  refused({ hours: { from: '09:00', to: '17:00', tz: 'Mars/Olympus' } }, 'hours.tz', /Mars/);
  refused({ applies_to: {} }, 'applies_to', /at least one/);
  t.notThrows(() => compile({ evidence: [{ id: 'chain', tool: 'c', requires: 'b' }, { id: 'chain2', tool: 'b', requires: 'a' }] }), 'a chain without a cycle is fine');
});

test('contract files: unknown fields, bad values and duplicate names are refused naming file and field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-contract-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, doc: unknown) => writeFileSync(join(dir, name), stringifyYaml(doc));
  write('a.yaml', { ...base, approvers: ['bob'] });
  let err = t.throws(() => loadContract(join(dir, 'a.yaml')), { instanceOf: PolicyError });
  t.regex(err!.message, /a\.yaml/);
  t.regex(err!.message, /approvers/);
  write('a.yaml', { ...base, levels: ['read', 'destroy'] });
  err = t.throws(() => loadContract(join(dir, 'a.yaml')), { instanceOf: PolicyError });
  t.is(err!.field, 'levels.1');
  write('a.yaml', base);
  write('b.yml', base);
  err = t.throws(() => loadContracts(dir, false), { instanceOf: PolicyError });
  t.regex(err!.message, /"c" is declared twice/);
  t.throws(() => loadContracts(join(dir, 'missing'), false), { instanceOf: PolicyError, message: /cannot read contracts directory/ });
});

function call(extra: Partial<CallView>): CallView {
  return { ...emptyCall('openai', 'openai', 'chat'), model: 'gpt-4o-mini', ...extra };
}

test('destinations: upstream names, MCP servers and hosts, globs; the host is where the upstream is reached', (t) => {
  const c = compile({ destinations: ['anthropic', 'mcp:github', 'mcp:docs-*', '*.openai.azure.com'] });
  const hosts: Record<string, string> = { anthropic: 'api.anthropic.com', azure: 'corp.openai.azure.com', openai: 'api.openai.com', vllm: 'vllm.internal' };
  const hostOf = (u: string) => hosts[u] ?? null;
  const now = Date.now();
  const at = (upstream: string, provider: CallView['provider'] = 'openai') => checkRequest(c, call({ upstream, provider }), now, () => null, hostOf);
  t.is(at('anthropic', 'anthropic'), null);
  t.is(at('mcp:github', 'mcp'), null);
  t.is(at('mcp:docs-internal', 'mcp'), null, 'a glob over MCP server names');
  t.is(at('azure', 'azure'), null, 'allowed by the host the upstream is reached at');
  const refused = at('mcp:jira', 'mcp');
  t.is(refused?.reason, 'ALT_CONTRACT_DESTINATION_DENIED');
  t.regex(refused!.hint, /mcp:github, mcp:docs-\*/);
  t.is(at('openai')?.reason, 'ALT_CONTRACT_DESTINATION_DENIED');
  t.regex(at('vllm')!.detail, /vllm \(vllm.internal\)/, 'the refusal names the host');
});

test('request checks: model, destination, declared tools and history calls, levels; hours', (t) => {
  const c = compile({ models: ['gpt-4o*'], destinations: ['openai'], tools: { lookup_order: 'read', 'search_*': 'auto' }, levels: ['read'] });
  const now = Date.now();
  t.is(checkRequest(c, call({}), now), null);
  t.is(checkRequest(c, call({ model: 'o3' }), now)?.reason, 'ALT_CONTRACT_MODEL_DENIED');
  t.is(checkRequest(c, call({ upstream: 'vllm' }), now)?.reason, 'ALT_CONTRACT_DESTINATION_DENIED');
  t.is(checkRequest(c, call({ tools: [{ name: 'search_docs' }] }), now), null, 'a glob entry with auto level classifies by name');
  t.is(checkRequest(c, call({ tools: [{ name: 'send_email' }] }), now)?.reason, 'ALT_TOOL_NOT_ALLOWED');
  t.is(checkRequest(c, call({ toolCalls: [{ name: 'drop_table', arguments: '{}' }] }), now)?.reason, 'ALT_TOOL_NOT_ALLOWED');
  const levelsOnly = compile({ levels: ['read', 'write'] });
  t.is(checkRequest(levelsOnly, call({ tools: [{ name: 'delete_user' }] }), now)?.reason, 'ALT_ACTION_LEVEL_DENIED');
  t.is(checkRequest(levelsOnly, call({ tools: [{ name: 'update_user' }] }), now), null);
  // Monday 2026-11-30 10:30 UTC is 11:30 in Berlin.
  const monday = Date.UTC(2026, 10, 30, 10, 30);
  const office = compile({ hours: { days: ['mon'], from: '11:00', to: '12:00', tz: 'Europe/Berlin' } });
  t.is(checkRequest(office, call({}), monday), null);
  t.is(checkRequest(office, call({}), monday + 3600_000)?.reason, 'ALT_OUTSIDE_HOURS');
  t.is(checkRequest(office, call({}), monday + 86400_000)?.reason, 'ALT_OUTSIDE_HOURS', 'Tuesday');
  const night = compile({ hours: { from: '22:00', to: '06:00' } });
  t.is(checkRequest(night, call({}), Date.UTC(2026, 10, 30, 23, 0)), null, 'a window across midnight');
  t.is(checkRequest(night, call({}), Date.UTC(2026, 10, 30, 12, 0))?.reason, 'ALT_OUTSIDE_HOURS');
});

test('evidence: results pair with their calls, failed results are no evidence, bindings compare values (42 = "42")', (t) => {
  const c = compile({ evidence: [{ id: 'r', tool: 'issue_refund', requires: 'lookup_order', match: { order_id: 'order.id' } }] });
  const set = new ContractSet([c], false);
  t.deepEqual([...set.evidencePaths], [['lookup_order', ['order.id']]]);
  const history = call({
    toolCalls: [
      { id: '1', name: 'lookup_order', arguments: '{"order":{"id":42}}' },
      { id: '2', name: 'lookup_order', arguments: '{"order":{"id":7}}' },
    ],
    toolResults: [
      { id: '1', content: 'ok' },
      { id: '2', content: 'not found', error: true },
    ],
  });
  const seen = evidenceFromHistory(history, set.evidencePaths);
  t.is(seen.length, 1);
  t.false(JSON.stringify([...seen[0]!.bound.values()]).includes('42'), 'the ledger keeps digests, not values');
  t.is(checkToolCall([c], history, 'issue_refund', '{"order_id":"42"}', seen), null);
  t.is(checkToolCall([c], history, 'issue_refund', { order_id: 7 }, seen)?.reason, 'ALT_EVIDENCE_REQUIRED');
  t.regex(missingEvidence(c.evidence[0]!, '{}', seen)!, /must carry order_id/);
  // Gemini answers by name, without ids.
  const gemini = call({ toolCalls: [{ name: 'lookup_order', arguments: { order: { id: 9 } } }], toolResults: [{ name: 'lookup_order', content: '{}' }] });
  t.is(evidenceFromHistory(gemini, set.evidencePaths).length, 1);
});

test('the evidence ledger is bounded: least recently used runs and idle runs are forgotten', (t) => {
  const ledger = new EvidenceLedger({ maxRuns: 2, maxPerRun: 2, ttlMs: 1000 });
  const e = (n: number) => evidenceOf('lookup', { id: n }, ['id']);
  ledger.record('a', 'r1', [e(1)], 0);
  ledger.record('a', 'r2', [e(2)], 10);
  ledger.record('a', 'r1', [e(3), e(4), e(4)], 20);
  t.is(ledger.get('a', 'r1', 20).length, 2, 'per-run cap keeps the newest; duplicates count once');
  ledger.record('a', 'r3', [e(5)], 30);
  t.is(ledger.get('a', 'r2', 30).length, 0, 'r2 was the least recently used');
  t.is(ledger.get('b', 'r1', 30).length, 0, 'runs are per agent');
  t.is(ledger.get('a', 'r3', 2000).length, 0, 'idle past the ttl');
});

test('rate buckets refill at the contract rate', (t) => {
  const b = new RateBuckets();
  t.true(b.take('k', 2, 1000, 0));
  t.true(b.take('k', 2, 1000, 0));
  t.false(b.take('k', 2, 1000, 100));
  t.is(b.waitMs('k', 2, 1000), 400);
  t.true(b.take('k', 2, 1000, 500), 'a request that comes when the announced wait ends is admitted');
});

test('a request that comes when the announced wait ends is admitted, whatever the float rounding', (t) => {
  // 1 per 2 s, refused at 8, 79 and 122 ms: the refills add up to 0.9999999999999999 of a token at 2000 ms.
  const b = new RateBuckets();
  t.true(b.take('k', 1, 2000, 0));
  for (const at of [8, 79, 122]) t.false(b.take('k', 1, 2000, at));
  const wait = b.waitMs('k', 1, 2000);
  t.is(122 + wait, 2000);
  t.true(b.take('k', 1, 2000, 122 + wait));
});

test('a principal is governed by its agent contracts, its team contracts and the * entries', (t) => {
  const set = new ContractSet(
    [
      compileContract({ ...base, contract: 'agent' }, 'a'),
      compileContract({ ...base, contract: 'team', applies_to: { teams: ['t'] } }, 'b'),
      compileContract({ ...base, contract: 'all', applies_to: { agents: ['*'] } }, 'c'),
    ],
    false,
  );
  t.deepEqual(set.forPrincipal('a', 't').map((c) => c.name).sort(), ['agent', 'all', 'team']);
  t.deepEqual(set.forPrincipal('z', 'y').map((c) => c.name), ['all']);
});

test('regions: matched against the upstream region; an unknown region fails closed', (t) => {
  const c = compile({ regions: ['eu-*', 'eu'] });
  const regions: Record<string, string | null> = { openai: 'us', bedrock: 'eu-west-1', gemini: null };
  const at = (upstream: string) => checkRequest(c, call({ upstream }), Date.now(), (u) => regions[u] ?? null);
  t.is(at('openai')?.reason, 'ALT_CONTRACT_REGION_DENIED');
  t.is(at('bedrock'), null);
  t.regex(at('gemini')!.hint, /region is not configured/);
});

test('data classes: secrets, cards and national ids are restricted; other personal data confidential', (t) => {
  t.is(classOf('secret'), 'restricted');
  t.is(classOf('pci.card'), 'restricted');
  t.is(classOf('pii.national_id'), 'restricted');
  t.is(classOf('pii.email'), 'confidential');
  t.is(classOf('pii.iban'), 'confidential');
  t.is(classOf('injection.override'), 'public');
});
