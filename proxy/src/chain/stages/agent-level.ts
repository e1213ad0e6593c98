import type { AgentLevels } from '../../enforcement/levels.js';
import type { CallView } from '../../core/call-view.js';
import type { RequestStage } from '../stage.js';
import { block, warn, type Verdict } from '../../core/verdict.js';

const ID = 'agent-level';

function usesTools(call: CallView | null): boolean {
  return call !== null && (call.tools.length > 0 || call.toolCalls.length > 0 || call.toolResults.length > 0);
}

/**
 * Applies the agent's enforcement level: warning adds a warning (header and audit),
 * throttle caps the request rate, quarantine refuses anything that uses tools, block
 * refuses everything. (kill is the agent kill switch, decided one stage earlier.)
 */
export function agentLevel(levels: AgentLevels, now: () => number = Date.now): RequestStage {
  return {
    id: ID,
    band: 'kill',
    side: 'request',
    summary: 'graduated enforcement per agent: warning, throttle (rate cap), quarantine (no tools), block',
    evaluate(ctx): Verdict | null {
      const p = ctx.principal;
      if (!p) return null;
      const l = levels.get(p.agent);
      if (!l) return null;
      const why = `agent ${p.agent} at level ${l.level} (${l.setBy}${l.reason ? `: ${l.reason}` : ''})`;
      switch (l.level) {
        case 'warning':
          return warn(ID, 'ALT_AGENT_WARNING', why);
        case 'throttle':
          return levels.admit(p.agent, now()) ? warn(ID, 'ALT_AGENT_THROTTLED', why) : { ...block(ID, 'ALT_AGENT_THROTTLED', why), outcome: 'throttle', retryAfterMs: levels.waitMs(p.agent) };
        case 'quarantine':
          return usesTools(ctx.call) ? block(ID, 'ALT_AGENT_QUARANTINED', why) : warn(ID, 'ALT_AGENT_QUARANTINED', why);
        case 'block':
          return block(ID, 'ALT_AGENT_BLOCKED', why);
        default:
          return null;
      }
    },
  };
}
