import test from 'ava';
import { BudgetLedger, DelegationBudgets, EvidenceLedger, RateBuckets, RunTracker, createLogger, evidenceOf } from '../../proxy/src/index.js';
import { DEFAULT_RUN_LOOPS } from '../../proxy/src/enforcement/runs.js';
import { RunSharing } from '../../agent/src/follower/run-sharing.js';

/** Two nodes whose run events reach each other as the control plane would relay them. */
function pair() {
  const nodes = [0, 1].map(() => ({ evidence: new EvidenceLedger(), runs: new RunTracker(() => DEFAULT_RUN_LOOPS), rates: new RateBuckets(), delegation: new DelegationBudgets() }));
  const sharing = nodes.map((n) => new RunSharing(n.evidence, n.runs, n.rates, n.delegation, createLogger('silent')));
  sharing.forEach((s, i) => {
    s.link = { send: (body) => (sharing[1 - i]!.onEvents((body.run_events as { events: Buffer }).events), true) };
  });
  return { nodes, sharing, settle: () => new Promise((r) => setTimeout(r, 30)) };
}

test('evidence recorded on one node is evidence on the other, bindings included', async (t) => {
  const { nodes, settle } = pair();
  const now = Date.now();
  nodes[0]!.evidence.record('agent-a', 'run-1', [evidenceOf('lookup_order', { order_id: 42 }, ['order_id'])], now);
  t.deepEqual(nodes[1]!.evidence.get('agent-a', 'run-1', now), [], 'not before it arrives');
  await settle();
  const got = nodes[1]!.evidence.get('agent-a', 'run-1', now);
  t.is(got.length, 1);
  t.is(got[0]!.tool, 'lookup_order');
  t.deepEqual([...got[0]!.bound], [...evidenceOf('lookup_order', { order_id: '42' }, ['order_id']).bound], 'the same binding digest');
  t.deepEqual(nodes[1]!.evidence.get('agent-a', 'run-2', now), [], 'only that run');
});

test('run-loop steps on two nodes count as one run; merged steps are not sent back', async (t) => {
  const { nodes, settle } = pair();
  const now = Date.now();
  const kinds: string[] = [];
  for (let i = 0; i < 6; i++) {
    kinds.push(nodes[i % 2]!.runs.step('agent-a', 'run-1', 'same', now + i).kind);
    await settle();
  }
  t.deepEqual(kinds, ['ok', 'ok', 'warn', 'warn', 'block', 'block']);
  t.is(nodes[0]!.runs.merge('agent-a', 'run-1', 'same', now + 10).kind, 'block', 'node 0 counted six, not twelve (7th now)');
});

test('a contract rate is one rate for the fleet: what one node takes, the other cannot', async (t) => {
  const { nodes, settle } = pair();
  const now = Date.now();
  // 4 requests a minute, two nodes taking in turn.
  const taken: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    taken.push(nodes[i % 2]!.rates.take('payments/agent-a', 4, 60_000, now + i));
    await settle();
  }
  t.deepEqual(taken, [true, true, true, true, false, false]);
  t.true(nodes[0]!.rates.waitMs('payments/agent-a', 4, 60_000) > 0);
});

test('a delegation link’s budget is one budget for the fleet: spend settled on one node counts on the other', async (t) => {
  const { nodes, settle } = pair();
  const now = Date.now();
  const exp = Math.floor(now / 1000) + 3600;
  const link = [{ id: 'link-1', usd: 1, exp }];
  const subjects = { key: 'k', agent: 'worker', team: 't', cost_center: null };
  // Node 0 spends 0.7 of the link's $1 (reserved 0.7, settled 0.7).
  const ledger = new BudgetLedger();
  const r = ledger.reserve(subjects, 0.7, now);
  if (!('counters' in r)) return t.fail('reserved');
  ledger.settle(nodes[0]!.delegation.reserve(r, link), 0.7);
  await settle();
  t.is(nodes[1]!.delegation.spent('link-1'), 0.7, 'node 1 learned it (before it ever saw the link)');
  t.truthy(nodes[1]!.delegation.exceeded(link, 0.5), 'node 1 refuses what would overrun the link');
  t.is(nodes[1]!.delegation.exceeded(link, 0.2), null);
  t.is(nodes[0]!.delegation.spent('link-1'), 0.7, 'not echoed back to node 0');
});
