import { tokenView, type TokenService } from '../../services/token-service.js';
import type { ControlRoutes } from '../router.js';

/** How the audit log names an operator token: its name, and its team or that it is an admin token. */
const tokenTarget = (name: string, team: string | null) => `token:${name} ${team === null ? 'admin' : `team:${team}`}`;

export function tokenRoutes(routes: ControlRoutes, tokens: TokenService): void {
  routes
    .add('GET', '/tokens', 'admin', async ({ operator }) => ({ status: 200, body: { tokens: (await tokens.list(operator)).map(tokenView) } }))
    .add('POST', '/tokens', 'admin', async ({ operator, body, auditTarget }) => {
      const b = (await body()) as { name?: unknown; team?: unknown } | null;
      // Named before it is issued, so a refused issue is recorded with what it asked for.
      if (typeof b?.name === 'string' && (b.team === undefined || b.team === null || typeof b.team === 'string')) auditTarget(tokenTarget(b.name, b.team ?? null));
      const { token, view } = await tokens.create(operator, b);
      return { status: 201, body: { token, ...tokenView(view) } };
    })
    .add('POST', '/tokens/:name/rotate', 'admin', async ({ operator, params, body, auditTarget }) => {
      auditTarget(`token:${params.name}`);
      const { token, view, previousUntil } = await tokens.rotate(operator, params.name!, await body());
      auditTarget(`${tokenTarget(view.name, view.team)} previous until ${previousUntil === null ? 'now' : new Date(previousUntil).toISOString()}`);
      return { status: 200, body: { token, ...tokenView(view), previous_until: previousUntil === null ? null : new Date(previousUntil).toISOString() } };
    })
    .add('DELETE', '/tokens/:name', 'admin', async ({ operator, params, auditTarget }) => {
      auditTarget(`token:${params.name}`);
      const deleted = await tokens.delete(operator, params.name!);
      auditTarget(tokenTarget(deleted.name, deleted.team));
      return { status: 200, body: { deleted: tokenView(deleted) } };
    });
}
