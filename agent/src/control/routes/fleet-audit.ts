import type { FleetVerifyReport } from '../../control-plane/fleet-audit-verify.js';
import type { Operator } from '../../services/operator.js';
import type { ControlRoutes } from '../router.js';

/**
 * A control-plane replica's GET /audit/verify: every node's shipped log (SPEC.md's fields, with
 * the sums over the fleet, plus `logs` and `silent_nodes`). Declared before the node's own route
 * for the same path, which it replaces.
 */
export function fleetAuditRoutes(routes: ControlRoutes, verify: (op: Operator) => Promise<FleetVerifyReport>): void {
  routes.add('GET', '/audit/verify', 'audit', async ({ operator }) => {
    const r = await verify(operator);
    const first = r.logs.find((l) => !l.ok);
    return {
      status: 200,
      body: {
        ok: r.ok,
        records: r.logs.reduce((a, l) => a + l.records, 0),
        checkpoints: r.logs.reduce((a, l) => a + l.checkpoints, 0),
        first_bad_record: first?.first_bad_record ?? null,
        problem: r.problem,
        verifier_key: r.fleet.verifier_key,
        fleet: r.fleet,
        logs: r.logs,
        silent_nodes: r.silent_nodes,
      },
    };
  });
}
