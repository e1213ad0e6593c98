import { evidenceOf, type Evidence, type EvidenceLedger } from '../../contracts/evidence.js';
import type { PolicyHolder } from '../../policy/policy.js';
import { rpcKey } from '../../providers/mcp/parse.js';
import { runOf } from '../context.js';
import type { ResponseStage } from '../stage.js';

const ID = 'mcp-evidence';

/**
 * A tool an MCP server ran and answered without error becomes evidence for the run, as a tool
 * result in a model's history does: the server executed it, whatever later stages let the
 * agent see. Only prerequisite tools, and only digests of their bound arguments. Decides nothing.
 */
export function mcpEvidence(policy: PolicyHolder, ledger: EvidenceLedger, now: () => number = Date.now): ResponseStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'response',
    summary: 'MCP tool calls that returned without error become evidence for the run (digests of bound arguments only)',
    open({ request }) {
      const call = request.call;
      const principal = request.principal;
      const paths = policy.current.contracts.evidencePaths;
      const run = runOf(request.headers);
      if (!call?.mcp || call.toolCalls.length === 0 || !principal || run === null || paths.size === 0) return null;
      return {
        inspect(fragments) {
          const returned: Evidence[] = [];
          for (const f of fragments) {
            for (const o of f.outcomes ?? []) {
              if (o.failed) continue;
              const tc = call.toolCalls.find((c) => c.id === rpcKey(o.id));
              const want = tc ? paths.get(tc.name) : undefined;
              if (want) returned.push(evidenceOf(tc!.name, tc!.arguments, want));
            }
          }
          ledger.record(principal.agent, run, returned, now());
          return null;
        },
        close() {},
      };
    },
  };
}
