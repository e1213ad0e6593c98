import { tokenView, type TokenService } from '../../tokens.js';
import type { ControlRoutes } from '../router.js';

export function tokenRoutes(routes: ControlRoutes, tokens: TokenService): void {
  routes
    .add('GET', '/tokens', ({ operator }) => ({ status: 200, body: { tokens: tokens.list(operator).map(tokenView) } }))
    .add('POST', '/tokens', async ({ operator, body }) => {
      const { token, view } = tokens.create(operator, await body());
      return { status: 201, body: { token, ...tokenView(view) } };
    })
    .add('DELETE', '/tokens/:name', ({ operator, params }) => ({ status: 200, body: { deleted: tokenView(tokens.delete(operator, params.name!)) } }));
}
