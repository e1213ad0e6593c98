// `npm run bench` (fifth part): behavioral contracts, in process.
//  - contract evaluation per request with 1,000 agents under contracts of 100 rules each
//    (request side: hours, models, destinations, 80 tools with levels, 20 evidence rules;
//    response side: a complete tool call checked against evidence)
//  - evidence-ledger memory per 10,000 runs
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import { contractRequest } from '../../proxy/src/chain/stages/contract-request.js';
import { contractResponse } from '../../proxy/src/chain/stages/contract-response.js';
import { compileContract } from '../../proxy/src/contracts/compile.js';
import type { ContractDocument } from '../../proxy/src/contracts/document.js';
import { EvidenceLedger, evidenceOf } from '../../proxy/src/contracts/evidence.js';
import { RateBuckets } from '../../proxy/src/contracts/rate.js';
import { ContractSet } from '../../proxy/src/contracts/set.js';
import { compilePolicy, PolicyHolder } from '../../proxy/src/policy/policy.js';
import { emptyCall, type CallView } from '../../proxy/src/core/call-view.js';
import { f, pct } from './common.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const AGENTS = 1000;
const VERBS = ['get', 'list', 'search', 'update', 'create', 'send', 'lookup', 'fetch'];

function contractFor(i: number): ContractDocument {
  const tools: Record<string, 'read' | 'write' | 'auto'> = {};
  for (let t = 0; t < 80; t++) tools[`${VERBS[t % VERBS.length]}_thing_${t}`] = t % 3 === 0 ? 'auto' : t % 2 ? 'write' : 'read';
  tools.lookup_order = 'read';
  tools.issue_refund = 'write';
  const evidence = Array.from({ length: 20 }, (_, e) => ({ id: `ev-${e}`, tool: e === 0 ? 'issue_refund' : `${VERBS[(e * 4 + 3) % VERBS.length]}_thing_${e * 4 + 3}`, requires: 'lookup_order', match: { order_id: 'order_id' } }));
  return {
    contract: `agent-${i}`,
    version: 1,
    applies_to: { agents: [`agent-${i}`] },
    models: ['gpt-4o*', 'gpt-4.1*', 'claude-*', 'gemini-*'],
    destinations: ['openai', 'anthropic', 'gemini'],
    tools,
    levels: ['read', 'write'],
    evidence,
    hours: { from: '00:00', to: '23:59' },
  };
}

function call(): CallView {
  const c: CallView = { ...emptyCall('openai', 'openai', 'chat'), model: 'gpt-4o-mini' };
  c.tools = Array.from({ length: 10 }, (_, t) => ({ name: `${VERBS[t % VERBS.length]}_thing_${t}` }));
  c.tools.push({ name: 'lookup_order' }, { name: 'issue_refund' });
  c.toolCalls = [{ id: 'c1', name: 'lookup_order', arguments: '{"order_id":"A-1"}' }];
  c.toolResults = [{ id: 'c1', content: '{"ok":true}' }];
  return c;
}

function context(i: number, c: CallView): RequestContext {
  return {
    id: `r${i}`,
    headers: { 'x-altrace-run': `run-${i % 5000}` },
    ingress: { method: 'POST', path: '/v1/chat/completions', routed: true, methodAllowed: true, contentType: 'application/json', bodyBytes: 0, tooLarge: false, jsonError: null, jsonTooDeep: false, shapeError: null, expectsBody: true },
    presented: { virtual: null, realIn: null, realValue: null },
    call: c,
    body: null,
    json: undefined,
    rewritten: null,
    content: null,
    key: null,
    principal: { keyId: `k${i % AGENTS}`, agent: `agent-${i % AGENTS}`, team: 'bench' },
    charge: null,
    notes: [],
  };
}

function main(): void {
  console.log('\n# altrace contracts bench — in process\n');
  const contracts = Array.from({ length: AGENTS }, (_, i) => compileContract(contractFor(i), `agent-${i}.yaml`));
  const rules = contracts[0]!.tools!.length + contracts[0]!.evidence.length;
  const policy = new PolicyHolder(compilePolicy({ version: 1 }, 'bench', new ContractSet(contracts, true)));
  const ledger = new EvidenceLedger();
  const request = contractRequest(policy, ledger, new RateBuckets(), () => 'us');
  const response = contractResponse({ ask: () => Promise.reject(new Error('no gates in this bench')) });
  const c = call();
  const refund = [{ text: '', seq: 0, tools: [{ key: '0.0', id: 'x', name: 'issue_refund', args: '{"order_id":"A-1","amount":5}', done: true }] }];
  const reqUs: number[] = [];
  const respUs: number[] = [];
  const n = 200_000;
  for (let i = 0; i < n + 20_000; i++) {
    const ctx = context(i, c);
    const t0 = process.hrtime.bigint();
    const v = request.evaluate(ctx);
    const t1 = process.hrtime.bigint();
    const inspector = response.open({ request: ctx, streaming: false })!;
    const found = inspector.inspect(refund);
    inspector.close();
    const t2 = process.hrtime.bigint();
    if (v !== null || found !== null) throw new Error(`the bench request should be allowed: ${JSON.stringify(v ?? found)}`);
    if (i < 20_000) continue;
    reqUs.push(Number(t1 - t0) / 1000);
    respUs.push(Number(t2 - t1) / 1000);
  }
  console.log(`| measure | p50 | p99 | target |`);
  console.log(`|---|---|---|---|`);
  console.log(`| request side, ${AGENTS} agents × ${rules} rules (12 declared tools, evidence from the history) | ${f(pct(reqUs, 0.5) / 1000, 4)} ms | ${f(pct(reqUs, 0.99) / 1000, 4)} ms | p99 ≤ 0.2 ms |`);
  console.log(`| response side: one complete tool call, evidence checked | ${f(pct(respUs, 0.5) / 1000, 4)} ms | ${f(pct(respUs, 0.99) / 1000, 4)} ms | — |`);

  // Evidence-ledger memory: 10,000 runs, five tools that returned in each.
  const fresh = new EvidenceLedger();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let r = 0; r < 10_000; r++) {
    fresh.record(`agent-${r % AGENTS}`, `run-${r}`, Array.from({ length: 5 }, (_, k) => evidenceOf('lookup_order', { order_id: `O-${r}-${k}` }, ['order_id'])), Date.now());
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`\nevidence ledger: ${fresh.runs} runs × 5 items = ${f((after - before) / 1024 / 1024, 2)} MB heap (${f((after - before) / fresh.runs, 0)} bytes per run)`);
}

main();
