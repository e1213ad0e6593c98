import type { KillSwitch, KillSwitches } from '../../enforcement/kill-switches.js';
import type { ReasonCode } from '../../core/reasons.js';
import type { RequestStage } from '../stage.js';
import type { Verdict } from '../../core/verdict.js';

export const KILL_STAGE_ID = 'kill-switch';

const REASON: Record<KillSwitch['scope'], ReasonCode> = {
  global: 'ALT_KILLED_GLOBAL',
  team: 'ALT_KILLED_TEAM',
  agent: 'ALT_KILLED_AGENT',
};

/** The verdict a kill switch hands down, for new requests and for those already in flight. */
export function killVerdict(k: KillSwitch): Verdict {
  const who = k.scope === 'global' ? 'all agents' : `${k.scope} ${k.target}`;
  return { outcome: 'kill', reason: REASON[k.scope], stage: KILL_STAGE_ID, detail: `kill switch on ${who}${k.reason ? `: ${k.reason}` : ''}` };
}

/**
 * Refuses every request of a killed principal. It reads the in-memory switches, which
 * the control API updates before it acknowledges, so there is no window after a kill.
 */
export function killSwitch(kills: KillSwitches): RequestStage {
  return {
    id: KILL_STAGE_ID,
    band: 'kill',
    side: 'request',
    summary: 'kill switches (global, team, agent): a killed principal is refused and its streams are ended',
    evaluate(ctx) {
      const k = kills.stopping(ctx.principal);
      return k ? killVerdict(k) : null;
    },
  };
}
