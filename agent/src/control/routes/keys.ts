import { keyView, type KeyService } from '../../services/key-service.js';
import { killView } from '../../services/kill-service.js';
import type { ControlRoutes } from '../router.js';
import type { Operator } from '../../services/operator.js';
import type { VirtualKey } from '../../../../proxy/src/index.js';

/** How the audit log names a key: its id and its agent. */
const keyTarget = (k: VirtualKey) => `key:${k.id} agent:${k.agent}`;

export function keyRoutes(routes: ControlRoutes, keys: KeyService): void {
  // Named by id first, so a refused call is recorded with what it asked for; by agent once visible.
  const visible = (operator: Operator, id: string, auditTarget: (t: string) => void) => {
    auditTarget(`key:${id}`);
    const key = keys.get(operator, id);
    auditTarget(keyTarget(key));
    return key;
  };
  routes
    .add('GET', '/keys', 'read', ({ operator }) => ({
      status: 200,
      body: { keys: keys.list(operator).map(keyView) },
    }))
    .add('POST', '/keys', 'write', async ({ operator, body, auditTarget }) => {
      const fields = keys.parse(operator, await body());
      auditTarget(`agent:${fields.agent}`);
      const { key, secret } = await keys.create(operator, fields);
      auditTarget(keyTarget(key));
      return { status: 201, body: { key: secret, ...keyView(key) } };
    })
    .add('GET', '/keys/:id', 'read', ({ operator, params, auditTarget }) => ({ status: 200, body: keyView(visible(operator, params.id!, auditTarget)) }))
    .add('DELETE', '/keys/:id', 'write', async ({ operator, params, auditTarget }) => {
      visible(operator, params.id!, auditTarget);
      const { key, kill } = await keys.revoke(operator, params.id!);
      return { status: 200, body: { ...keyView(key), kill: kill ? killView(kill) : null } };
    })
    .add('POST', '/keys/:id/rotate', 'write', async ({ operator, params, auditTarget }) => {
      visible(operator, params.id!, auditTarget);
      const { key, secret } = await keys.rotate(operator, params.id!);
      return { status: 200, body: { key: secret, ...keyView(key) } };
    });
}
