// A node enrolls with its own service-account token (issue 21 with the fleet): the control plane
// asks the API server whose it is (a TokenReview, here the stand-in's) and admits the allowed
// account only; the operator's enrollment tokens keep working beside it.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiServer } from '../fixtures/kube-apiserver.js';
import { startFleet, type Fleet } from '../helpers/fleet.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';
import type { PostgresServer } from '../fixtures/postgres.js';

postgresSuite(() => {
  let pg!: PostgresServer;
  sharedPostgres((server) => (pg = server));

  test('a node enrolls with its service-account token; another account’s token, or one for another audience, is refused', async (t) => {
    const api = await new KubeApiServer().start();
    t.teardown(() => api.close());
    const dir = mkdtempSync(join(tmpdir(), 'altrace-review-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'token'), api.token);
    const fleet: Fleet = await startFleet(pg, 'fleet_token_review', {
      replicas: 1,
      nodes: 0,
      replicaEnv: {
        ALTRACE_KUBERNETES_ENABLED: 'true',
        ALTRACE_KUBERNETES_API_SERVER: api.url,
        ALTRACE_KUBERNETES_TOKEN_FILE: join(dir, 'token'),
        ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY: 'true',
        ALTRACE_FLEET_ENROLL_SERVICE_ACCOUNTS: 'altrace-system/altrace-agent',
      },
    });
    t.teardown(() => fleet.close());
    const sa = api.issueServiceAccountToken('altrace-system', 'altrace-agent', { audiences: ['altrace'], pod: 'altrace-agent-abcde' });
    const node = await fleet.addNode('sa-node', { ALTRACE_BOOTSTRAP_TOKEN: sa });
    t.truthy(node.controlUrl, 'enrolled and following (its first snapshot arrived)');
    t.true(api.counts.reviews >= 1, 'the control plane asked the API server');
    const replicaLogs = fleet.replicas[0]!.logs.join('\n');
    t.regex(replicaLogs, /serviceaccount:altrace-system\/altrace-agent pod altrace-agent-abcde/, 'the replica says what admitted the node');

    for (const [what, token] of [
      ['another service account', api.issueServiceAccountToken('default', 'default', { audiences: ['altrace'] })],
      ['a token for another audience', api.issueServiceAccountToken('altrace-system', 'altrace-agent', { audiences: ['https://kubernetes.default.svc'] })],
    ] as const) {
      await t.throwsAsync(fleet.addNode(`refused-${what.length}`, { ALTRACE_BOOTSTRAP_TOKEN: token }), undefined, `${what} is refused`);
    }
    t.true(fleet.replicas[0]!.logs.filter((l) => l.includes('node enrollment refused')).length >= 2, 'each refused at enrollment');
    // As in a pod: the projected token is a file (rotated by the kubelet), read when the node enrolls.
    const projected = join(dir, 'projected-token');
    writeFileSync(projected, `${api.issueServiceAccountToken('altrace-system', 'altrace-agent', { audiences: ['altrace'], pod: 'altrace-agent-fghij' })}\n`);
    t.truthy((await fleet.addNode('file-node', { ALTRACE_BOOTSTRAP_TOKEN: undefined, ALTRACE_BOOTSTRAP_TOKEN_FILE: projected })).controlUrl, 'enrolled with the token from its file');
    t.regex(fleet.replicas[0]!.logs.join('\n'), /pod altrace-agent-fghij/);
    // The operator's enrollment tokens keep working beside service accounts.
    t.truthy((await fleet.addNode('token-node')).controlUrl);
  });
});
