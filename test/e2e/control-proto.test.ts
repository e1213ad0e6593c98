// The control API's JSON replies use exactly the message types published in proto/.
import test from 'ava';
import type protobuf from 'protobufjs';
import { loadProto } from '../../agent/src/audit/records.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const root = loadProto('altrace/v1/control.proto');
let h: Harness;

test.before(async () => {
  h = await startHarness();
});
test.after.always(async () => h?.close());

/** Field-by-field: every key is a field of the type, of the right kind; null stands for absent. */
function mismatches(typeName: string, value: unknown, path = typeName): string[] {
  const type = root.lookupType(typeName);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path} is not an object`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const field = type.fields[k] as protobuf.Field | undefined;
    if (!field) {
      out.push(`${path}.${k} is not in ${typeName}`);
      continue;
    }
    if (v === null) continue;
    field.resolve();
    const check = (x: unknown, p: string) => {
      if (field.resolvedType && 'fields' in field.resolvedType) out.push(...mismatches(field.resolvedType.fullName.slice(1), x, p));
      else if (field.type === 'string' && typeof x !== 'string') out.push(`${p} should be a string`);
      else if (['double', 'uint32', 'uint64', 'int64'].includes(field.type) && typeof x !== 'number') out.push(`${p} should be a number`);
      else if (field.type === 'bool' && typeof x !== 'boolean') out.push(`${p} should be a boolean`);
    };
    if (field.map) for (const [mk, mv] of Object.entries(v as object)) check(mv, `${path}.${k}.${mk}`);
    else if (field.repeated) {
      if (!Array.isArray(v)) out.push(`${path}.${k} should be a list`);
      else v.forEach((x, i) => check(x, `${path}.${k}[${i}]`));
    } else check(v, `${path}.${k}`);
  }
  return out;
}

async function conforms(t: import('ava').ExecutionContext, typeName: string, res: Response): Promise<any> {
  const body = await res.json();
  t.deepEqual(mismatches(`altrace.v1.${typeName}`, body), [], `${typeName}: ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

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
  t.deepEqual(mismatches('altrace.v1.Key', { id: 'x', colour: 'red' }), ['altrace.v1.Key.colour is not in altrace.v1.Key'], 'the checker itself catches an unknown field');
});

