// AltracePolicy and AltraceContract resources compiled into the fleet policy: what is accepted,
// what is refused (with the field), and that one bad contract does not take the others down.
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import { readBundle } from '../../agent/src/policy/bundle.js';
import { compileResources, type Resource } from '../../agent/src/kube/policy-resources.js';
import { packageRoot } from '../../agent/src/paths.js';
import { join } from 'node:path';

const fallback = () => readBundle(join(packageRoot, 'policies/default.yaml'));
const shipped = parseYaml(fallback().policy) as Record<string, unknown>;

let clock = 0;
function resource(name: string, spec: unknown, namespace?: string, generation = 1): Resource {
  clock++;
  return { name, namespace, generation, created: `2026-12-06T10:00:${String(clock).padStart(2, '0')}Z`, spec };
}

const contract = (name: string, extra: Record<string, unknown> = {}) => ({ contract: name, version: 1, applies_to: { agents: [`${name}-bot`] }, models: ['gpt-4o*'], ...extra });

test('a policy and its contracts are accepted and bundled: each contract a file, the policy naming the directory', (t) => {
  const policy = resource('default', { ...shipped, contracts: { require: false } });
  const out = compileResources('default', [policy], [resource('refunds', contract('refunds'), 'payments'), resource('search', contract('search'), 'research')], fallback);
  t.truthy(out.bundle);
  t.regex(out.digest!, /^[0-9a-f]{8,}/);
  t.deepEqual(out.bundle!.contracts.map((c) => c.name).sort(), ['payments.refunds.yaml', 'research.search.yaml']);
  t.is((parseYaml(out.bundle!.policy) as { contracts: { dir: string } }).contracts.dir, 'contracts');
  t.is(out.policies.get('default')!.state, 'Accepted');
  t.is(out.policies.get('default')!.digest, out.digest!);
  t.is(out.contracts.get('payments/refunds')!.state, 'Accepted');
  t.is(out.contracts.get('research/search')!.state, 'Accepted');
});

test('a contract that fails its schema, its compile, or takes a name already taken is refused with the field; the rest are enforced', (t) => {
  const out = compileResources(
    'default',
    [resource('default', shipped)],
    [
      resource('good', contract('good'), 'a'),
      resource('typo', { ...contract('typo'), modles: ['x'] }, 'a'),
      resource('nobody', { contract: 'nobody', version: 1, applies_to: {} }, 'b'),
      resource('copycat', contract('good'), 'c'),
    ],
    fallback,
  );
  t.truthy(out.bundle, 'the good contract is still enforced');
  t.deepEqual(out.bundle!.contracts.map((c) => c.name), ['a.good.yaml']);
  const typo = out.contracts.get('a/typo')!;
  t.is(typo.state, 'Refused');
  t.is(typo.reason, 'ALT_POLICY_INVALID');
  t.is(typo.field, 'spec.modles');
  const nobody = out.contracts.get('b/nobody')!;
  t.is(nobody.field, 'spec.applies_to');
  t.regex(nobody.message, /at least one agent or team/);
  const copycat = out.contracts.get('c/copycat')!;
  t.is(copycat.field, 'spec.contract');
  t.regex(copycat.message, /already defined by AltraceContract a\/good/);
});

test('a refused policy enforces nothing new; a policy under another name is not in force', (t) => {
  const out = compileResources('default', [resource('default', { ...shipped, version: 2 }), resource('staging', shipped)], [resource('c', contract('c'), 'n')], fallback);
  t.is(out.bundle, null, 'the last good policy stays');
  t.is(out.policies.get('default')!.state, 'Refused');
  t.is(out.policies.get('default')!.field, 'spec.version');
  t.is(out.policies.get('staging')!.state, 'NotInForce');
  t.regex(out.policies.get('staging')!.message, /named default/);
  t.is(out.contracts.get('n/c')!.state, 'Accepted', 'a contract is judged on its own');
  t.regex(out.contracts.get('n/c')!.message, /not enforced yet: AltracePolicy default is refused/);
});

test('a policy whose compile fails past its schema is refused with the field, the scratch paths kept out of the message', (t) => {
  const bad = { ...shipped, response: { deny_patterns: [{ id: 'x', pattern: '(unclosed' }] } };
  const out = compileResources('default', [resource('default', bad, undefined, 4)], [], fallback);
  const s = out.policies.get('default')!;
  t.is(s.state, 'Refused');
  t.is(s.observedGeneration, 4);
  t.is(s.field, 'spec.response.deny_patterns.0.pattern');
  t.notRegex(s.message, /altrace-policy-check|\/tmp\//);
});

test('without an AltracePolicy the control plane’s own policy file is the policy, with the contracts added', (t) => {
  const out = compileResources('default', [], [resource('c', contract('extra'), 'n')], fallback);
  t.truthy(out.bundle);
  const names = out.bundle!.contracts.map((c) => c.name);
  t.true(names.includes('n.c.yaml'));
  t.true(names.length >= 1 + fallback().contracts.length);
  t.is(out.policies.size, 0);
});
