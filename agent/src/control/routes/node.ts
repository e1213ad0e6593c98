import { ControlError } from '../../errors.js';
import { requireAdmin } from '../../services/team-scope.js';
import type { ControlRoutes } from '../router.js';
import type { SeenWorkload } from '../../node/registry.js';

/** What the control API needs of node enforcement; null when it is off. */
export interface NodeView {
  status(): Record<string, unknown>;
  /** The node CA certificate (PEM) agents trust for TLS termination; null when not terminating. */
  caPem(): string | null;
  shadowAgents(): SeenWorkload[];
}

/** A shadow agent as GET /agents lists it (admins only: it belongs to no team yet). */
export function shadowAgentJson(w: SeenWorkload) {
  return {
    id: w.id,
    kind: 'shadow',
    teams: [],
    process: { pid: w.pid, comm: w.comm },
    address: w.address ?? null,
    cgroup: { id: String(w.cgroupId), path: w.cgroupPath },
    pod_uid: w.podUid,
    container_id: w.containerId,
    providers: [...w.providers].sort(),
    connections: w.connections,
    refused: w.refused,
    first_seen: new Date(w.firstSeen).toISOString(),
    last_seen: new Date(w.lastSeen).toISOString(),
  };
}

export function nodeRoutes(routes: ControlRoutes, node: NodeView | null): void {
  routes.add('GET', '/node', 'admin', ({ operator }) => {
    requireAdmin(operator, 'read node enforcement status');
    if (!node) return { status: 200, body: { enforcement: 'off' } };
    return { status: 200, body: JSON.parse(JSON.stringify(node.status(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as unknown };
  });
  // Public by nature (a CA certificate), but served to operators only like the rest of /node.
  routes.add('GET', '/node/ca', 'read', ({ operator }) => {
    requireAdmin(operator, 'read the node CA');
    const pem = node?.caPem() ?? null;
    if (!pem) throw new ControlError('ALT_NOT_FOUND', 'no node CA: node enforcement is off or node.tls is not terminate', 'node.tls');
    return { status: 200, body: { pem } };
  });
}
