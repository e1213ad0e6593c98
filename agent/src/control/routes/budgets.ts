import type { BudgetService } from '../../services/budget-service.js';
import type { ControlRoutes } from '../router.js';

export function budgetRoutes(routes: ControlRoutes, budgets: BudgetService): void {
  routes
    .add('GET', '/budgets', 'read', ({ operator }) => ({ status: 200, body: { budgets: budgets.list(operator) } }))
    .add('PUT', '/budgets/:scope/:target', 'write', async ({ operator, params, body, auditTarget }) => {
      auditTarget(`${params.scope}:${params.target}`);
      const b = await budgets.put(operator, params.scope!, params.target!, await body());
      return { status: 200, body: b ? { scope: b.scope, target: b.target, ...b.limits } : { scope: params.scope, target: params.target, removed: true } };
    })
    .add('GET', '/spend', 'read', async ({ operator, query }) => ({ status: 200, body: await budgets.spend(operator, query.get('by'), query.get('window')) }));
}
