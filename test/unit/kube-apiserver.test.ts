// The stand-in API server holds up as the real one for what Altrace writes: driven with the real
// @kubernetes/client-node, built-in objects are created, listed, replaced, patched and deleted as
// on a cluster; CRDs are established and serve each of their versions; custom resources are
// pruned and validated against their CRD (422 naming the field); writes keep the status
// subresource apart and count generations; stale versions conflict; patches take the media types
// the real server takes; watches see custom objects; finalizers hold a deletion, namespaces
// terminate, and owners take their dependents with them.
import test from 'ava';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, ListWatch, PatchStrategy, setHeaderOptions, Watch, type ConfigurationOptions, type KubernetesObject, type V1CustomResourceDefinition, type V1ObjectMeta } from '@kubernetes/client-node';
import { startStandIn } from '../helpers/kube.js';
import { eventually } from '../helpers/harness.js';

const WIDGETS = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.io' },
  spec: {
    group: 'example.io',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 }, color: { type: 'string', enum: ['red', 'blue'] }, free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
              status: { type: 'object', properties: { state: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

async function setup(t: { teardown: (f: () => unknown) => void }) {
  const { api, kubeConfig: kc } = await startStandIn(t);
  api.installCrd(WIDGETS as never);
  return { api, kc, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api), crds: kc.makeApiClient(ApiextensionsV1Api) };
}

const W = { group: 'example.io', version: 'v1', plural: 'widgets', namespace: 'shop' };
const widget = (name: string, spec: Record<string, unknown> = { size: 1 }, metadata: Partial<V1ObjectMeta> = {}) => ({ apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name, ...metadata }, spec });
// How a caller chooses the patch type: @kubernetes/client-node 2.0.1's patch methods send the
// first media type their OpenAPI operation lists, application/json-patch+json, whatever the body
// is; any other type is chosen per call with this middleware, which overwrites Content-Type.
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const code = (err: unknown) => (err as { code?: number }).code;

/** The Status a request was refused with (the test fails if it was not). */
async function refusal(request: Promise<unknown>): Promise<{ code: number; reason: string; message: string; fields: string[] }> {
  try {
    await request;
  } catch (err) {
    const e = err as { code: number; body: string };
    const status = JSON.parse(e.body) as { reason: string; message: string; details?: { causes?: { field: string }[] } };
    return { code: e.code, reason: status.reason, message: status.message, fields: (status.details?.causes ?? []).map((c) => c.field).sort() };
  }
  throw new Error('the request was not refused');
}

test('custom objects: unknown fields pruned, an invalid one refused 422 with the field, generation counted on spec changes only', async (t) => {
  const { custom } = await setup(t);
  const created = (await custom.createNamespacedCustomObject({ ...W, body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { size: 2, typo: true, free: { anything: [1] } }, status: { state: 'forged' } } })) as { metadata: { generation: number; namespace: string }; spec: Record<string, unknown>; status?: unknown };
  t.deepEqual(created.spec, { size: 2, free: { anything: [1] } }, 'typo pruned; the preserved subtree kept');
  t.is(created.metadata.generation, 1);
  t.is(created.metadata.namespace, 'shop');
  t.is(created.status, undefined, 'status is not written through the main resource');
  const invalid = await t.throwsAsync(custom.createNamespacedCustomObject({ ...W, body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'b' }, spec: { size: 0, color: 'green' } } }));
  t.is(code(invalid), 422);
  const causes = (JSON.parse((invalid as unknown as { body: string }).body) as { details: { causes: { field: string }[] } }).details.causes.map((c) => c.field).sort();
  t.deepEqual(causes, ['spec.color', 'spec.size']);
  const dup = await t.throwsAsync(custom.createNamespacedCustomObject({ ...W, body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { size: 1 } } }));
  t.is(code(dup), 409);

  const statusOnly = (await custom.patchNamespacedCustomObjectStatus({ ...W, name: 'a', body: { status: { state: 'ready' }, spec: { size: 99 } } }, merge)) as { metadata: { generation: number }; spec: { size: number }; status: { state: string } };
  t.deepEqual([statusOnly.metadata.generation, statusOnly.spec.size, statusOnly.status.state], [1, 2, 'ready'], '/status changes status only, and no generation');
  const respec = (await custom.patchNamespacedCustomObject({ ...W, name: 'a', body: { spec: { size: 3 }, status: { state: 'forged' } } }, merge)) as { metadata: { generation: number }; status: { state: string } };
  t.deepEqual([respec.metadata.generation, respec.status.state], [2, 'ready'], 'a spec change counts; status kept');
  const relabel = (await custom.patchNamespacedCustomObject({ ...W, name: 'a', body: { metadata: { labels: { x: 'y' } } } }, merge)) as { metadata: { generation: number } };
  t.is(relabel.metadata.generation, 2, 'metadata is not spec');
});

test('writes: a stale resourceVersion conflicts, JSON patch applies, strategic merge is refused for custom objects, a ConfigMap round-trips', async (t) => {
  const { custom, core } = await setup(t);
  const a = (await custom.createNamespacedCustomObject({ ...W, body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { size: 1 } } })) as { metadata: { resourceVersion: string } };
  await custom.patchNamespacedCustomObject({ ...W, name: 'a', body: [{ op: 'replace', path: '/spec/size', value: 5 }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  const stale = await t.throwsAsync(custom.replaceNamespacedCustomObject({ ...W, name: 'a', body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'a', resourceVersion: a.metadata.resourceVersion }, spec: { size: 7 } } }));
  t.is(code(stale), 409);
  t.is(((await custom.getNamespacedCustomObject({ ...W, name: 'a' })) as { spec: { size: number } }).spec.size, 5);
  const strategic = await t.throwsAsync(custom.patchNamespacedCustomObject({ ...W, name: 'a', body: { spec: { size: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)));
  t.is(code(strategic), 415);

  await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'cm' }, data: { k: 'v' } } });
  await core.patchNamespacedConfigMap({ namespace: 'shop', name: 'cm', body: { data: { k: 'w' } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  t.deepEqual((await core.readNamespacedConfigMap({ namespace: 'shop', name: 'cm' })).data, { k: 'w' });
  await core.deleteNamespacedConfigMap({ namespace: 'shop', name: 'cm' });
  t.is(code(await t.throwsAsync(core.readNamespacedConfigMap({ namespace: 'shop', name: 'cm' }))), 404);
});

test('a watch sees custom objects come, change and go; an owner’s deletion collects its dependents; a deleted CRD takes its objects', async (t) => {
  const { api, kc, custom } = await setup(t);
  const seen: string[] = [];
  const req = await new Watch(kc).watch('/apis/example.io/v1/widgets', {}, (type, o: { metadata: { name: string } }) => seen.push(`${type} ${o.metadata.name}`), () => {});
  t.teardown(() => req.abort());
  const owner = (await custom.createNamespacedCustomObject({ ...W, body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'owner' }, spec: { size: 1 } } })) as { metadata: { uid: string } };
  await custom.createNamespacedCustomObject({ ...W, body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'child', ownerReferences: [{ apiVersion: 'example.io/v1', kind: 'Widget', name: 'owner', uid: owner.metadata.uid }] }, spec: { size: 1 } } });
  await custom.patchNamespacedCustomObject({ ...W, name: 'child', body: { spec: { size: 2 } } }, merge);
  await custom.deleteNamespacedCustomObject({ ...W, name: 'owner' });
  await eventually(() => api.get('widgets', 'shop', 'child') === undefined, 2000, 'the dependent is collected');
  await eventually(() => seen.includes('DELETED child'), 2000, 'the watch hears it');
  t.deepEqual(seen, ['ADDED owner', 'ADDED child', 'MODIFIED child', 'DELETED owner', 'DELETED child']);
  await custom.createNamespacedCustomObject({ ...W, body: { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'last' }, spec: { size: 1 } } });
  api.delete('customresourcedefinitions', null, 'widgets.example.io');
  t.is(api.list('widgets').length, 0);
  t.is(code(await t.throwsAsync(custom.listNamespacedCustomObject({ ...W }))), 404, 'no longer served');
});

type Data = { metadata?: V1ObjectMeta; data?: Record<string, string> };
type Named = { namespace: string; name: string };
interface CoreOps {
  create(p: { namespace: string; body: object }): Promise<Data>;
  read(p: Named): Promise<Data>;
  list(p: { namespace: string }): Promise<{ items: Data[] }>;
  listAll(): Promise<{ items: Data[] }>;
  replace(p: Named & { body: object }): Promise<Data>;
  patch(p: Named & { body: object }, o?: ConfigurationOptions): Promise<Data>;
  remove(p: Named): Promise<unknown>;
}

/** CoreV1Api's methods for ConfigMaps or Secrets, which take the same calls. */
function coreOps(core: CoreV1Api, kind: 'ConfigMap' | 'Secret'): CoreOps {
  const method = (verb: string, tail = '') => (core as unknown as Record<string, (...a: unknown[]) => Promise<never>>)[`${verb}${kind}${tail}`]!.bind(core);
  return { create: method('createNamespaced'), read: method('readNamespaced'), list: method('listNamespaced'), listAll: method('list', 'ForAllNamespaces'), replace: method('replaceNamespaced'), patch: method('patchNamespaced'), remove: method('deleteNamespaced') };
}

for (const kind of ['ConfigMap', 'Secret'] as const) {
  test(`${kind}s through CoreV1Api: created, read, listed in a namespace and across all, replaced (a stale version conflicts), merge- and JSON-patched, deleted`, async (t) => {
    const { api, core } = await setup(t);
    const ops = coreOps(core, kind);
    const v = (s: string) => (kind === 'Secret' ? Buffer.from(s).toString('base64') : s);
    const made = await ops.create({ namespace: 'shop', body: { metadata: { name: 'cfg' }, data: { k: v('1') } } });
    await ops.create({ namespace: 'depot', body: { metadata: { name: 'cfg' }, data: { k: v('2') } } });
    t.truthy(made.metadata?.uid);
    t.is(made.metadata?.generation, undefined, 'no generation for a type that keeps none');
    t.deepEqual((await ops.read({ namespace: 'shop', name: 'cfg' })).data, { k: v('1') });
    t.deepEqual((await ops.list({ namespace: 'shop' })).items.map((i) => i.metadata?.namespace), ['shop']);
    t.deepEqual((await ops.listAll()).items.map((i) => i.metadata?.namespace).sort(), ['depot', 'shop'], 'no namespace: every namespace');

    const stale = await refusal(ops.replace({ namespace: 'shop', name: 'cfg', body: { metadata: { name: 'cfg', resourceVersion: '1' }, data: {} } }));
    t.like(stale, { code: 409, reason: 'Conflict' });
    const replaced = await ops.replace({ namespace: 'shop', name: 'cfg', body: { metadata: { name: 'cfg', resourceVersion: made.metadata!.resourceVersion }, data: { k: v('3') } } });
    t.true(Number(replaced.metadata!.resourceVersion) > Number(made.metadata!.resourceVersion));
    const patched = await ops.patch({ namespace: 'shop', name: 'cfg', body: { data: { k2: v('4') } } }, merge);
    t.deepEqual(patched.data, { k: v('3'), k2: v('4') });
    t.is((await ops.patch({ namespace: 'shop', name: 'cfg', body: { data: { k2: v('4') } } }, merge)).metadata?.resourceVersion, patched.metadata?.resourceVersion, 'a patch that changes nothing is no write');
    t.deepEqual((await ops.patch({ namespace: 'shop', name: 'cfg', body: [{ op: 'remove', path: '/data/k' }] })).data, { k2: v('4') }, 'JSON patch: no option needed');
    t.like(await refusal(ops.patch({ namespace: 'shop', name: 'cfg', body: { data: { k: v('5') } } })), { code: 400 }, 'an object sent without choosing the patch type goes as a JSON patch, and is refused');

    t.like(await ops.remove({ namespace: 'shop', name: 'cfg' }), { status: 'Success', details: { name: 'cfg', uid: made.metadata!.uid } }, 'these types answer a DELETE with a Status');
    t.like(await refusal(ops.read({ namespace: 'shop', name: 'cfg' })), { code: 404, reason: 'NotFound' });
    t.deepEqual(api.list(kind === 'Secret' ? 'secrets' : 'configmaps').map((o) => o.metadata.namespace), ['depot']);
    t.like(api.counts, { creates: 2, replaces: 1, patches: 3, deletes: 1 }, 'the writes that succeeded, by verb');
  });
}

const GADGETS: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.example.io' },
  spec: {
    group: 'example.io',
    scope: 'Cluster',
    names: { plural: 'gadgets', kind: 'Gadget' },
    versions: [0, 1].map((min, i) => ({
      name: ['v1alpha1', 'v1'][i]!,
      served: true,
      storage: i === 1,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: min } } } } } },
    })),
  },
};

test('a CRD through ApiextensionsV1Api: its name checked, established, every served version validated by its own schema, changed by a patch, deleted', async (t) => {
  const { api, custom, crds } = await setup(t);
  const misnamed = await refusal(crds.createCustomResourceDefinition({ body: { ...GADGETS, metadata: { name: 'gadgets' } } }));
  t.like(misnamed, { code: 422, reason: 'Invalid', fields: ['metadata.name'] });
  await crds.createCustomResourceDefinition({ body: GADGETS });
  const status = (await crds.readCustomResourceDefinition({ name: 'gadgets.example.io' })).status!;
  t.is(status.conditions?.find((c) => c.type === 'Established')?.status, 'True');
  t.is(status.acceptedNames?.kind, 'Gadget');
  t.deepEqual(status.storedVersions, ['v1']);

  const G = { group: 'example.io', plural: 'gadgets' };
  const old = (await custom.createClusterCustomObject({ ...G, version: 'v1alpha1', body: { apiVersion: 'example.io/v1alpha1', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 0, color: 'red' } } })) as KubernetesObject & { spec: object };
  t.is(old.apiVersion, 'example.io/v1alpha1', 'answered at the version asked');
  t.deepEqual(old.spec, { size: 0 }, 'pruned by the v1alpha1 schema');
  const read = (await custom.getClusterCustomObject({ ...G, version: 'v1', name: 'g' })) as KubernetesObject;
  t.deepEqual([read.apiVersion, read.metadata?.uid], ['example.io/v1', old.metadata?.uid], 'the same object at the other version');
  t.is(api.get('gadgets', null, 'g')?.apiVersion, 'example.io/v1', 'stored at the storage version');
  t.like(await refusal(custom.createClusterCustomObject({ ...G, version: 'v1', body: { apiVersion: 'example.io/v1', kind: 'Gadget', metadata: { name: 'h' }, spec: { size: 0 } } })), { code: 422, fields: ['spec.size'] }, "v1's own minimum");
  t.like(await refusal(custom.listClusterCustomObject({ ...G, version: 'v2' })), { code: 404, reason: 'NotFound' }, 'a version not served');

  await crds.patchCustomResourceDefinition({ name: 'gadgets.example.io', body: [{ op: 'add', path: '/spec/versions/1/schema/openAPIV3Schema/properties/spec/properties/color', value: { type: 'string' } }] });
  const colored = (await custom.createClusterCustomObject({ ...G, version: 'v1', body: { apiVersion: 'example.io/v1', kind: 'Gadget', metadata: { name: 'h' }, spec: { size: 1, color: 'red' } } })) as { spec: object };
  t.deepEqual(colored.spec, { size: 1, color: 'red' }, 'the changed schema holds from then on');

  await crds.deleteCustomResourceDefinition({ name: 'gadgets.example.io' });
  t.deepEqual(api.list('gadgets'), []);
  t.like(await refusal(custom.listClusterCustomObject({ ...G, version: 'v1' })), { code: 404 });
});

test('the status subresource: a PUT to /status ignores spec, a status is validated, a pod’s status is the server’s until /status writes it', async (t) => {
  const { custom, core } = await setup(t);
  await custom.createNamespacedCustomObject({ ...W, body: widget('a') });
  const written = (await custom.replaceNamespacedCustomObjectStatus({ ...W, name: 'a', body: { ...widget('a', { size: 9 }), status: { state: 'ready' } } })) as { metadata: { generation: number }; spec: { size: number }; status: { state: string } };
  t.deepEqual([written.spec.size, written.status.state, written.metadata.generation], [1, 'ready', 1]);
  t.like(await refusal(custom.patchNamespacedCustomObjectStatus({ ...W, name: 'a', body: { status: { state: 5 } } }, merge)), { code: 422, fields: ['status.state'] });

  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'main', image: 'agent:1' }] }, status: { phase: 'Running' } };
  t.is((await core.createNamespacedPod({ namespace: 'shop', body: pod })).status?.phase, 'Pending', 'a created pod is Pending whatever the request says');
  t.is((await core.patchNamespacedPodStatus({ namespace: 'shop', name: 'p', body: { status: { phase: 'Running' } } }, merge)).status?.phase, 'Running');
  const relabelled = await core.patchNamespacedPod({ namespace: 'shop', name: 'p', body: { metadata: { labels: { a: 'b' } }, status: { phase: 'Failed' } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  t.deepEqual([relabelled.metadata?.labels, relabelled.status?.phase], [{ a: 'b' }, 'Running'], 'a write to the pod leaves its status alone');
});

test('requests refused as the real server refuses them: a namespace that differs, a name that differs, an object or resource that is not there, no name at all', async (t) => {
  const { custom } = await setup(t);
  t.like(await refusal(custom.createNamespacedCustomObject({ ...W, body: widget('a', { size: 1 }, { namespace: 'depot' }) })), { code: 400, reason: 'BadRequest' });
  t.like(await refusal(custom.replaceNamespacedCustomObject({ ...W, name: 'a', body: widget('a') })), { code: 404, reason: 'NotFound' });
  await custom.createNamespacedCustomObject({ ...W, body: widget('a') });
  t.like(await refusal(custom.replaceNamespacedCustomObject({ ...W, name: 'a', body: widget('b') })), { code: 400, reason: 'BadRequest' });
  t.like(await refusal(custom.createNamespacedCustomObject({ ...W, body: { ...widget('c'), kind: 'Gizmo' } })), { code: 400 });
  t.like(await refusal(custom.listNamespacedCustomObject({ ...W, plural: 'nothings' })), { code: 404, reason: 'NotFound' });
  t.like(await refusal(custom.createNamespacedCustomObject({ ...W, body: widget('') })), { code: 422, fields: ['metadata.name'] });
  const named = (await custom.createNamespacedCustomObject({ ...W, body: widget('', { size: 1 }, { generateName: 'w-' }) })) as KubernetesObject;
  t.regex(named.metadata!.name!, /^w-[a-z0-9]{5}$/);
});

test('Cilium policies: accepted as Cilium’s schema has them, a malformed one refused naming the field, no strategic merge for them', async (t) => {
  const { custom } = await setup(t);
  const C = { group: 'cilium.io', version: 'v2' };
  const cnp = { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'deny-ai' }, spec: { endpointSelector: {}, egressDeny: [{ toCIDRSet: [{ cidr: '203.0.113.0/24' }] }] } };
  const made = (await custom.createNamespacedCustomObject({ ...C, plural: 'ciliumnetworkpolicies', namespace: 'shop', body: cnp })) as KubernetesObject;
  t.is(made.metadata?.generation, 1);
  await custom.createClusterCustomObject({ ...C, plural: 'ciliumclusterwidenetworkpolicies', body: { ...cnp, kind: 'CiliumClusterwideNetworkPolicy' } });
  await custom.createNamespacedCustomObject({ ...C, plural: 'ciliumlocalredirectpolicies', namespace: 'shop', body: { apiVersion: 'cilium.io/v2', kind: 'CiliumLocalRedirectPolicy', metadata: { name: 'to-proxy' }, spec: { redirectFrontend: { serviceMatcher: { serviceName: 'proxy', namespace: 'shop' } }, redirectBackend: { localEndpointSelector: {}, toPorts: [{ port: '8080', protocol: 'TCP' }] } } } });
  const malformed = await refusal(custom.createNamespacedCustomObject({ ...C, plural: 'ciliumnetworkpolicies', namespace: 'shop', body: { ...cnp, metadata: { name: 'bad' }, spec: { endpointSelector: {}, egress: [{ toPorts: 'all' }] } } }));
  t.like(malformed, { code: 422, reason: 'Invalid', fields: ['spec.egress[0].toPorts'] });
  t.like(await refusal(custom.patchNamespacedCustomObject({ ...C, plural: 'ciliumnetworkpolicies', namespace: 'shop', name: 'deny-ai', body: { spec: {} } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch))), { code: 415 });
});

test('deletion as a cluster does it: a dependent goes with its last owner, or is orphaned; a finalizer holds an object; a namespace terminates with what is in it; a ListWatch sees each step', async (t) => {
  const { api, kc, custom, core } = await setup(t);
  const seen: string[] = [];
  const lw = new ListWatch<KubernetesObject>('/apis/example.io/v1/widgets', new Watch(kc), () => custom.listCustomObjectForAllNamespaces({ group: 'example.io', version: 'v1', resourcePlural: 'widgets' }));
  t.teardown(() => lw.stop());
  for (const verb of ['add', 'update', 'delete'] as const) lw.on(verb, (o) => seen.push(`${verb} ${o.metadata!.name}${o.metadata!.deletionTimestamp ? ' (deleting)' : ''}`));
  const cm = async (name: string, owners: KubernetesObject[] = [], namespace = 'shop') =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name, ownerReferences: owners.map((o) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata!.name!, uid: o.metadata!.uid! })) } } });

  const [one, two, three] = await Promise.all([cm('one'), cm('two'), cm('three')]);
  await cm('shared', [one!, two!]);
  await cm('orphan', [three!]);
  await core.deleteNamespacedConfigMap({ namespace: 'shop', name: 'one' });
  await core.deleteNamespacedConfigMap({ namespace: 'shop', name: 'three', propagationPolicy: 'Orphan' });
  await new Promise((r) => setTimeout(r, 100));
  t.truthy(api.get('configmaps', 'shop', 'shared'), 'one owner is left');
  t.deepEqual(api.get('configmaps', 'shop', 'orphan')?.metadata.ownerReferences, [], 'orphaned, not collected');
  await core.deleteNamespacedConfigMap({ namespace: 'shop', name: 'two' });
  await eventually(() => api.get('configmaps', 'shop', 'shared') === undefined, 2000, 'collected with its last owner');

  t.is((await core.createNamespace({ body: { metadata: { name: 'tmp' } } })).status?.phase, 'Active');
  await cm('inside', [], 'tmp');
  await custom.createNamespacedCustomObject({ ...W, namespace: 'tmp', body: widget('held', { size: 1 }, { finalizers: ['example.io/cleanup'] }) });
  await core.deleteNamespace({ name: 'tmp' });
  t.is((await core.readNamespace({ name: 'tmp' })).status?.phase, 'Terminating');
  t.like(await refusal(cm('late', [], 'tmp')), { code: 403, reason: 'Forbidden' });
  await eventually(() => api.get('configmaps', 'tmp', 'inside') === undefined, 2000, 'the namespace’s contents are deleted');
  await eventually(() => seen.includes('update held (deleting)'), 2000, 'the finalizer holds the widget, marked');
  t.truthy(api.get('namespaces', null, 'tmp'), 'the namespace waits for it');
  await custom.patchNamespacedCustomObject({ ...W, namespace: 'tmp', name: 'held', body: { metadata: { finalizers: null } } }, merge);
  await eventually(() => api.get('namespaces', null, 'tmp') === undefined, 2000, 'then the namespace goes');
  t.deepEqual(seen, ['add held', 'update held (deleting)', 'delete held (deleting)']);
});
