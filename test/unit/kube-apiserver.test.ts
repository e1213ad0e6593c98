// The stand-in API server holds up as the real one for what Altrace writes: driven with the real
// @kubernetes/client-node, custom resources are pruned and validated against their CRD (422
// naming the field), writes keep the status subresource apart and count generations, stale
// versions conflict, patches take the media types the real server takes, watches see custom
// objects, and owners take their dependents with them.
import test from 'ava';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
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
  return { api, kc, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) };
}

const W = { group: 'example.io', version: 'v1', plural: 'widgets', namespace: 'shop' };
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const code = (err: unknown) => (err as { code?: number }).code;

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
