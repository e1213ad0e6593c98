// GitOps with the altrace.io resources (issue 21, item 4): a control-plane replica watches
// AltracePolicy, AltraceContract and AltraceKillSwitch on the API server (the stand-in, driven
// here with the real @kubernetes/client-node as kubectl would), compiles them into the fleet
// policy that its node enforces, writes each resource's status, and makes a kill a manifest —
// reconciled with kills made through the API, both in the audit log; an MCP server declared with pods
// in the policy gets its Cilium policy from the replica.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { parse as parseYaml } from 'yaml';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { crdManifests, GROUP, VERSION } from '../../agent/src/kube/crds.js';
import { packageRoot } from '../../agent/src/paths.js';
import { startStandIn } from '../helpers/kube.js';
import { startFleet, type Fleet } from '../helpers/fleet.js';
import { eventually } from '../helpers/harness.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';
import type { PostgresServer } from '../fixtures/postgres.js';

const shipped = parseYaml(readFileSync(join(packageRoot, 'policies/default.yaml'), 'utf8')) as Record<string, unknown>;

async function chat(proxyUrl: string, key: string, model = 'gpt-4o-mini'): Promise<string> {
  try {
    await new OpenAI({ apiKey: key, baseURL: `${proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    return 'ok';
  } catch (err) {
    return String((err as { code?: string }).code ?? (err as Error).message);
  }
}

/** A replica following the stand-in, reconciling every second. */
const replicaKubeEnv = (kube: { api_server: string; token_file: string }) => ({
  ALTRACE_KUBERNETES_ENABLED: 'true',
  ALTRACE_KUBERNETES_API_SERVER: kube.api_server,
  ALTRACE_KUBERNETES_TOKEN_FILE: kube.token_file,
  ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY: 'true',
  ALTRACE_KUBERNETES_RESYNC_S: '1',
});

type Status = { state?: string; reason?: string; field?: string; message?: string; digest?: string; engagedBy?: string; observedGeneration?: number; conditions?: { type: string; status: string }[] };

postgresSuite(() => {
  let pg!: PostgresServer;
  sharedPostgres((server) => (pg = server));

  test('resources in, enforcement and status out: contracts and the policy compiled, a refusal named, a kill as a manifest', async (t) => {
    const { api, settings: kube, kubeConfig } = await startStandIn(t);
    for (const { object } of crdManifests()) api.installCrd(object as never);
    const fleet: Fleet = await startFleet(pg, 'kube_resources', {
      replicas: 1,
      nodes: 1,
      replicaEnv: { ...replicaKubeEnv(kube), ALTRACE_KUBERNETES_FLEET_CA_CONFIGMAP: 'altrace-system/altrace-fleet-ca', ALTRACE_KUBERNETES_CILIUM_POLICIES: 'true' },
    });
    t.teardown(() => fleet.close());
    api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools' } });
    const replica = fleet.replicas[0]!;
    const node = fleet.nodes[0]!;
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const cluster = (plural: string) => ({ group: GROUP, version: VERSION, plural });
    const status = async (plural: string, name: string, namespace?: string): Promise<Status> =>
      ((namespace ? await custom.getNamespacedCustomObject({ ...cluster(plural), namespace, name }) : await custom.getClusterCustomObject({ ...cluster(plural), name })) as { status?: Status }).status ?? {};
    const until = (what: string, check: () => Promise<boolean>) => eventually(check, 15_000, what);

    const published = () => api.get('configmaps', 'altrace-system', 'altrace-fleet-ca') as unknown as { data: Record<string, string> } | undefined;
    await until('the fleet CA is published', async () => published() !== undefined);
    t.is(published()!.data['ca.crt'], readFileSync(fleet.caFile, 'utf8'), 'the fleet CA the nodes trust is published for the DaemonSet');
    api.delete('configmaps', 'altrace-system', 'altrace-fleet-ca');
    await until('a deleted fleet CA ConfigMap is put back (new nodes would wait for it)', async () => published()?.data['ca.crt'] === readFileSync(fleet.caFile, 'utf8'));
    const key = (await (await fleet.call(replica.controlUrl, 'POST', '/keys', { agent: 'refund-bot', team: 'payments' })).json()) as { key: string; id: string };
    await until('the node knows the key', async () => (await chat(node.proxyUrl, key.key)) === 'ok');

    // A contract in its namespace: accepted, compiled into the fleet policy, enforced on the node.
    await custom.createNamespacedCustomObject({
      ...cluster('altracecontracts'),
      namespace: 'payments',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltraceContract', metadata: { name: 'refund', namespace: 'payments' }, spec: { contract: 'refund', version: 1, applies_to: { agents: ['refund-bot'] }, models: ['gpt-4o*'] } },
    });
    await until('the contract is Accepted', async () => (await status('altracecontracts', 'refund', 'payments')).state === 'Accepted');
    const accepted = await status('altracecontracts', 'refund', 'payments');
    t.is(accepted.observedGeneration, 1);
    t.like(accepted.conditions?.[0], { type: 'Ready', status: 'True' });
    await until('the node enforces the contract', async () => (await chat(node.proxyUrl, key.key, 'gpt-4.1')) !== 'ok');
    t.is(await chat(node.proxyUrl, key.key, 'gpt-4o-mini'), 'ok', 'what the contract allows passes');

    // A contract that cannot compile: refused with the field, the others still enforced.
    await custom.createNamespacedCustomObject({
      ...cluster('altracecontracts'),
      namespace: 'research',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltraceContract', metadata: { name: 'nobody', namespace: 'research' }, spec: { contract: 'nobody', version: 1, applies_to: {} } },
    });
    await until('the bad contract is Refused', async () => (await status('altracecontracts', 'nobody', 'research')).state === 'Refused');
    t.like(await status('altracecontracts', 'nobody', 'research'), { reason: 'ALT_POLICY_INVALID', field: 'spec.applies_to' });
    t.is(await chat(node.proxyUrl, key.key, 'gpt-4.1'), 'ALT_CONTRACT_MODEL_DENIED', 'the good contract still holds');

    // The policy as a resource; an edit that fails keeps the last good policy, its status says why.
    // With an MCP server that runs as pods: the replica's Cilium controller holds them to the registry's egress.
    const withServer = { ...shipped, mcp: { ...(shipped.mcp as object), servers: { github: { egress: ['api.github.com:443'], pods: { namespace: 'tools', labels: { app: 'github-mcp' } } } } } };
    await custom.createClusterCustomObject({ ...cluster('altracepolicies'), body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltracePolicy', metadata: { name: 'default' }, spec: withServer } });
    await until('the policy is Accepted', async () => (await status('altracepolicies', 'default')).state === 'Accepted');
    await until('the MCP server’s pods get their Cilium policy from the fleet policy', async () => api.get('ciliumnetworkpolicies', 'tools', 'altrace-mcp-github') !== undefined);
    const fleetPolicy = async () => ((await (await fleet.call(replica.controlUrl, 'GET', '/policy')).json()) as { digest: string }).digest;
    t.is((await status('altracepolicies', 'default')).digest, await fleetPolicy(), 'the status names the digest in force');
    const good = await fleetPolicy();
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    // What the CRD's schema can say, the API server refuses itself, naming the field.
    const schemaRefusal = await t.throwsAsync(custom.patchClusterCustomObject({ ...cluster('altracepolicies'), name: 'default', body: { spec: { version: 2 } } }, merge));
    t.is((schemaRefusal as { code?: number }).code, 422);
    t.regex(String((schemaRefusal as { body?: string }).body), /"field":"spec.version"/);
    // What only a compile finds (a pattern that is not a regular expression), the status says.
    await custom.patchClusterCustomObject({ ...cluster('altracepolicies'), name: 'default', body: { spec: { response: { deny_patterns: [{ id: 'broken', pattern: '(unclosed' }] } } } }, merge);
    await until('the bad edit is Refused', async () => (await status('altracepolicies', 'default')).state === 'Refused');
    t.like(await status('altracepolicies', 'default'), { reason: 'ALT_POLICY_INVALID', field: 'spec.response.deny_patterns.0.pattern', observedGeneration: 2 });
    t.like((await status('altracepolicies', 'default')).conditions?.[0], { type: 'Ready', status: 'False' });
    t.is(await fleetPolicy(), good, 'the last good policy stays in force');
    const push = await fleet.call(replica.controlUrl, 'PUT', '/policy', { policy: 'version: 1\n' });
    t.is(push.status, 409, 'the cluster is the source of truth: a push through the API is refused');
    t.regex(await push.text(), /ALT_CONFLICT/);

    // A kill as a manifest: engaged on the node; released through the API, engaged again; deleted, released.
    await custom.createClusterCustomObject({ ...cluster('altracekillswitches'), body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltraceKillSwitch', metadata: { name: 'stop-refunds' }, spec: { scope: 'agent', target: 'refund-bot', reason: 'incident 42' } } });
    await until('the kill is Engaged', async () => (await status('altracekillswitches', 'stop-refunds')).state === 'Engaged');
    t.is((await status('altracekillswitches', 'stop-refunds')).engagedBy, 'kubernetes:AltraceKillSwitch/stop-refunds');
    await until('the node refuses the killed agent', async () => (await chat(node.proxyUrl, key.key)) === 'ALT_KILLED_AGENT');
    t.is((await fleet.call(replica.controlUrl, 'DELETE', '/kill/agent/refund-bot')).status, 200);
    await until('the manifest engages the switch again', async () => (await fleet.call(replica.controlUrl, 'GET', '/kill')).json().then((b) => (b as { switches: unknown[] }).switches.length === 1));
    t.is(await chat(node.proxyUrl, key.key), 'ALT_KILLED_AGENT');
    await custom.deleteClusterCustomObject({ ...cluster('altracekillswitches'), name: 'stop-refunds' });
    await until('deleting the manifest releases the switch', async () => (await chat(node.proxyUrl, key.key)) === 'ok');

    // A switch the operator engaged through the API first stays the operator's: the manifest reports it, its deletion leaves it.
    t.is((await fleet.call(replica.controlUrl, 'POST', '/kill', { scope: 'team', target: 'ops', reason: 'operator first' })).status, 201);
    await custom.createClusterCustomObject({ ...cluster('altracekillswitches'), body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltraceKillSwitch', metadata: { name: 'stop-ops' }, spec: { scope: 'team', target: 'ops', reason: 'manifest second' } } });
    await until('the manifest reports the switch Engaged', async () => (await status('altracekillswitches', 'stop-ops')).state === 'Engaged');
    const engagedBy = (await status('altracekillswitches', 'stop-ops')).engagedBy!;
    t.false(engagedBy.startsWith('kubernetes:'), `engaged by the operator, not the manifest: ${engagedBy}`);
    await custom.deleteClusterCustomObject({ ...cluster('altracekillswitches'), name: 'stop-ops' });
    const opsEngaged = async () => ((await (await fleet.call(replica.controlUrl, 'GET', '/kill')).json()) as { switches: { scope: string; target: string }[] }).switches.some((k) => k.scope === 'team' && k.target === 'ops');
    await new Promise((r) => setTimeout(r, 2500)); // two resyncs
    t.true(await opsEngaged(), 'deleting the manifest does not release what the operator engaged');
    t.is((await fleet.call(replica.controlUrl, 'DELETE', '/kill/team/ops')).status, 200);

    // Both sides of the reconciliation are in the audit log.
    const audit = (await (await fleet.call(replica.controlUrl, 'GET', '/audit?limit=200')).json()) as { records: { control?: { action: string; target?: string } }[] };
    const actions = audit.records.filter((r) => r.control).map((r) => `${r.control!.action} ${r.control!.target}`);
    t.true(actions.filter((a) => a === 'APPLY AltraceKillSwitch agent:refund-bot').length >= 2, 'engaged, and engaged again');
    t.true(actions.includes('DELETE AltraceKillSwitch agent:refund-bot'));
    t.true(actions.some((a) => a.startsWith('APPLY AltracePolicy digest:')), 'the policy from the cluster is a security event in the audit log');
    t.true(actions.some((a) => a.startsWith('DELETE /kill') && a.endsWith('agent:refund-bot')), `the operator's release through the API: ${actions.filter((a) => a.includes('kill')).join('; ')}`);
  });

  test('two replicas, one leader: the Lease names it, it alone reconciles; killed, the other takes over and the resources keep their status', async (t) => {
    const { api, settings: kube, kubeConfig } = await startStandIn(t);
    for (const { object } of crdManifests()) api.installCrd(object as never);
    const fleet: Fleet = await startFleet(pg, 'kube_leader', {
      replicas: 2,
      nodes: 0,
      replicaEnv: {
        ...replicaKubeEnv(kube),
        ALTRACE_KUBERNETES_FLEET_CA_CONFIGMAP: 'altrace-system/altrace-fleet-ca',
        ALTRACE_KUBERNETES_LEADER_ELECTION_LEASE_DURATION_S: '3',
        ALTRACE_KUBERNETES_LEADER_ELECTION_RENEW_DEADLINE_S: '2',
        ALTRACE_KUBERNETES_LEADER_ELECTION_RETRY_PERIOD_S: '1',
      },
    });
    t.teardown(() => fleet.close());
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const cluster = (plural: string) => ({ group: GROUP, version: VERSION, plural });
    const until = (what: string, check: () => Promise<boolean>) => eventually(check, 20_000, what);
    const leaderGauge = async (controlUrl: string) => Number(/^altrace_kubernetes_leader (\d)/m.exec(await (await fetch(`${controlUrl}/metrics`)).text())?.[1]);
    const holder = () => (api.get('leases', 'altrace-system', 'altrace-control-plane') as { spec?: { holderIdentity?: string } } | undefined)?.spec?.holderIdentity;
    await until('one replica holds the Lease', async () => !!holder());
    const gauges = await Promise.all(fleet.replicas.map((r) => leaderGauge(r.controlUrl)));
    t.deepEqual([...gauges].sort(), [0, 1], 'exactly one replica leads');
    const leader = fleet.replicas[gauges.indexOf(1)]!;
    const follower = fleet.replicas[gauges.indexOf(0)]!;
    t.is(holder()!.split(':')[1], String(leader.child.pid), 'the Lease names the leading process');

    // A kill as a manifest is engaged once, by the leader alone: one APPLY record, not one per replica.
    await custom.createClusterCustomObject({ ...cluster('altracekillswitches'), body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltraceKillSwitch', metadata: { name: 'stop-all-refunds' }, spec: { scope: 'team', target: 'payments', reason: 'drill' } } });
    await until('the kill is Engaged', async () => ((await custom.getClusterCustomObject({ ...cluster('altracekillswitches'), name: 'stop-all-refunds' })) as { status?: Status }).status?.state === 'Engaged');
    await new Promise((r) => setTimeout(r, 2500)); // two resyncs of each replica
    // Each replica keeps its own record of control actions: counted on both.
    const applies = async (replica: typeof leader) => {
      const audit = (await (await fleet.call(replica.controlUrl, 'GET', '/audit?limit=200')).json()) as { records: { control?: { action: string; target?: string } }[] };
      return audit.records.filter((r) => r.control?.action === 'APPLY AltraceKillSwitch' && r.control.target === 'team:payments').length;
    };
    t.deepEqual([await applies(leader), await applies(follower)], [1, 0], 'engaged once, by the leader; the follower only watched');

    // The leader dies without releasing: the follower leads once the lease has run out, and reconciles.
    await leader.kill();
    await until('the follower leads', async () => (await leaderGauge(follower.controlUrl)) === 1);
    t.is(holder()!.split(':')[1], String(follower.child.pid));
    await custom.createNamespacedCustomObject({
      ...cluster('altracecontracts'),
      namespace: 'payments',
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltraceContract', metadata: { name: 'after-failover', namespace: 'payments' }, spec: { contract: 'after-failover', version: 1, applies_to: { agents: ['refund-bot'] }, models: ['gpt-4o*'] } },
    });
    await until('the new leader writes the status', async () => ((await custom.getNamespacedCustomObject({ ...cluster('altracecontracts'), namespace: 'payments', name: 'after-failover' })) as { status?: Status }).status?.state === 'Accepted');
    t.is(await applies(follower), 0, 'the switch the new leader found engaged is not engaged again');
  });
});
