import { ControlError } from '../../errors.js';
import { keyView, type KeyService } from '../../services/key-service.js';
import { killView } from '../../services/kill-service.js';
import type { ControlRoutes, Operator } from '../router.js';
import { canSeeTeam, requireTeam } from '../../services/team-scope.js';
import type { VirtualKey } from '../../../../proxy/src/index.js';

/** How the audit log names a key: its id and its agent. */
const keyTarget = (k: VirtualKey) => `key:${k.id} agent:${k.agent}`;

export function keyRoutes(routes: ControlRoutes, keys: KeyService): void {
  const visible = (operator: Operator, id: string, auditTarget: (t: string) => void) => {
    auditTarget(`key:${id}`);
    const key = keys.list().find((k) => k.id === id);
    // A key of another team is reported as unknown: a team token learns nothing about it.
    if (!key || !canSeeTeam(operator, key.team)) throw new ControlError('ALT_NOT_FOUND', 404, `no key ${id}`, 'id');
    auditTarget(keyTarget(key));
    return key;
  };
  routes
    .add('GET', '/keys', ({ operator }) => ({
      status: 200,
      body: { keys: keys.list().filter((k) => canSeeTeam(operator, k.team)).map(keyView) },
    }))
    .add('POST', '/keys', async ({ operator, body, auditTarget }) => {
      const b = await body();
      const team = (b as { team?: unknown } | null)?.team;
      if (typeof team === 'string') requireTeam(operator, team, 'team');
      else if (operator.team !== null) throw new ControlError('ALT_INVALID_FIELD', 400, `team is required (this token may issue keys for team ${operator.team})`, 'team');
      const fields = keys.parse(b);
      auditTarget(`agent:${fields.agent}`);
      const { key, secret } = keys.create(operator, fields);
      auditTarget(keyTarget(key));
      return { status: 201, body: { key: secret, ...keyView(key) } };
    })
    .add('GET', '/keys/:id', ({ operator, params, auditTarget }) => ({ status: 200, body: keyView(visible(operator, params.id!, auditTarget)) }))
    .add('DELETE', '/keys/:id', ({ operator, params, auditTarget }) => {
      visible(operator, params.id!, auditTarget);
      const { key, kill } = keys.revoke(params.id!, operator.name);
      return { status: 200, body: { ...keyView(key), kill: kill ? killView(kill) : null } };
    })
    .add('POST', '/keys/:id/rotate', ({ operator, params, auditTarget }) => {
      visible(operator, params.id!, auditTarget);
      const { key, secret } = keys.rotate(params.id!);
      return { status: 200, body: { key: secret, ...keyView(key) } };
    });
}
