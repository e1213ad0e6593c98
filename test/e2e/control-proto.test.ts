// The control API's JSON replies use exactly the message types published in proto/.
import test from 'ava';
import { conforms, mismatches } from '../helpers/proto.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

test.before(async () => {
  h = await startHarness();
});
test.after.always(async () => h?.close());

test('keys, kill switches, budgets, spend, tokens, chain, errors and audit verification match proto/', async (t) => {
  const key = await conforms(t, 'Key', await h.control('POST', '/keys', { agent: 'p', team: 'proto', cost_center: 'cc', models: ['gpt-4o-mini'] }));
  await conforms(t, 'KeyList', await h.control('GET', '/keys'));
  await conforms(t, 'Key', await h.control('POST', `/keys/${key.id}/rotate`));
  await conforms(t, 'KillSwitch', await h.control('POST', '/kill', { scope: 'team', target: 'proto', reason: 'schema check' }));
  await conforms(t, 'KillList', await h.control('GET', '/kill'));
  await conforms(t, 'KillRelease', await h.control('DELETE', '/kill/team/proto'));
  await conforms(t, 'Key', await h.control('DELETE', `/keys/${key.id}`));
  await conforms(t, 'BudgetSet', await h.control('PUT', '/budgets/team/proto', { daily: 5, monthly: 100 }));
  await conforms(t, 'BudgetList', await h.control('GET', '/budgets'));
  await conforms(t, 'Spend', await h.control('GET', '/spend?by=agent'));
  await conforms(t, 'OperatorToken', await h.control('POST', '/tokens', { name: 'proto-ops', team: 'proto' }));
  await conforms(t, 'Chain', await h.control('GET', '/chain'));
  await conforms(t, 'ErrorReply', await h.control('POST', '/kill', { scope: 'planet' }));
  await conforms(t, 'AuditVerification', await h.control('GET', '/audit/verify'));
  await conforms(t, 'ApprovalList', await h.control('GET', '/approvals?status=all'));
  t.deepEqual(mismatches('altrace.v1.Key', { id: 'x', colour: 'red' }), ['altrace.v1.Key.colour is not in altrace.v1.Key'], 'the checker itself catches an unknown field');
});

