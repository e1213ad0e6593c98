import type { NodeReport } from '../../state/postgres/index.js';
import type { EnforcementService } from '../../services/enforcement-service.js';
import { isAdmin, requireAdmin } from '../../services/team-scope.js';
import type { ControlRoutes } from '../router.js';

/**
 * A control-plane replica's view of agents and node enforcement across the fleet, from what each
 * node last reported (every few seconds): GET /agents lists every registered agent with the nodes
 * that saw it and, for admins, the shadow agents each node found; GET /node is every node's
 * `bpf status`. Declared before the node's own routes for the same paths, which they replace.
 */
export function fleetAgentRoutes(routes: ControlRoutes, enforcement: EnforcementService, reports: () => Promise<NodeReport[]>): void {
  routes
    .add('GET', '/agents', 'read', async ({ operator }) => {
      const all = await reports();
      const seenOn = new Map<string, { node: string; last_seen: string }[]>();
      const shadows: Record<string, unknown>[] = [];
      for (const r of all) {
        for (const a of r.seenAgents) {
          if (a.kind === 'shadow') shadows.push({ id: a.id, kind: 'shadow', teams: [], node: r.nodeId, process: a.agent, first_seen: new Date(a.firstSeen).toISOString(), last_seen: new Date(a.lastSeen).toISOString() });
          else seenOn.set(a.agent, [...(seenOn.get(a.agent) ?? []), { node: r.nodeId, last_seen: new Date(a.lastSeen).toISOString() }]);
        }
      }
      const registered = enforcement.agents(operator).map((a) => {
        const nodes = seenOn.get(a.id) ?? [];
        const last = nodes.map((n) => n.last_seen).sort().pop() ?? null;
        return { ...a, last_seen: last, seen_on: nodes };
      });
      return { status: 200, body: { agents: [...registered, ...(isAdmin(operator) ? shadows : [])] } };
    })
    .add('GET', '/node', 'admin', async ({ operator }) => {
      requireAdmin(operator, 'read node enforcement status');
      const all = await reports();
      return { status: 200, body: { nodes: all.map((r) => ({ node: r.nodeId, reported: new Date(r.reportedAt).toISOString(), status: r.bpfStatus ?? { enforcement: 'off' } })) } };
    });
}
