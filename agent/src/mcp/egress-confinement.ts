// The proxy's question when a wrap opens a relay — must this server start confined, and where? —
// answered from the registry in force (mcp.servers.<name>.egress) and the node's BPF
// confinement. A server that declares egress where it cannot be held to it is refused
// (fail closed); a policy change follows into the live confinements, and a server that now
// declares egress while it runs unconfined is stopped (its wrap ends it; the client may start it
// again, confined).
import type { Confinement, Logger, PolicyHolder, RelayConfinement, StdioRelays } from '../../../proxy/src/index.js';
import type { McpEgress } from '../node/mcp-egress.js';

export interface EgressConfinementDeps {
  policy: PolicyHolder;
  /** The node's confinement, when node enforcement runs with BPF; otherwise why not. */
  egress(): McpEgress | string;
  logger: Logger;
}

export function egressConfinement(d: EgressConfinementDeps): RelayConfinement & { follow(relays: StdioRelays): void } {
  const confined = new Set<string>();
  return {
    async confine(server: string, relayId: string): Promise<Confinement> {
      const entries = d.policy.current.mcp.get(server)?.egress ?? null;
      if (entries === null) return null;
      const egress = d.egress();
      if (typeof egress === 'string') return { refused: egress };
      try {
        const cgroup = await egress.confine(server, relayId, entries);
        confined.add(relayId);
        return { cgroup };
      } catch (err) {
        d.logger.error({ server, err: (err as Error).message }, 'an MCP server could not be confined; its relay is refused');
        return { refused: `the agent could not make its cgroup: ${(err as Error).message}` };
      }
    },
    release(relayId: string): void {
      if (!confined.delete(relayId)) return;
      const egress = d.egress();
      if (typeof egress !== 'string') void egress.release(relayId);
    },
    follow(relays: StdioRelays): void {
      d.policy.onReplace((next, previous) => {
        const egress = d.egress();
        if (typeof egress !== 'string') {
          for (const server of egress.servers()) {
            void egress.update(server, next.mcp.get(server)?.egress ?? null).catch((err: Error) => d.logger.error({ server, err: err.message }, 'an MCP server’s egress set could not follow the policy'));
          }
        }
        for (const [server, entry] of next.mcp) {
          if (entry.egress === null || previous.mcp.get(server)?.egress) continue;
          const stopped = relays.closeServer(server, true);
          if (stopped > 0) d.logger.warn({ server, relays: stopped }, 'MCP server now declares egress: its unconfined relays are closed (their wraps stop it; started again, it runs confined)');
        }
      });
    },
  };
}
