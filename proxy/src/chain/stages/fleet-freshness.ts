import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';

export const FLEET_FRESHNESS_STAGE_ID = 'fleet-freshness';

/** A followed node's standing with its control plane: why it may not decide now, or null when it may. */
export interface FleetFreshness {
  refusal(): string | null;
}

/**
 * A node that follows a control plane and has lost it refuses new requests once it is stale
 * (fleet.on_stale: fail_closed), or has no state from it at all. After the kill switches, so a
 * killed principal is told it is killed.
 */
export function fleetFreshness(fleet: FleetFreshness): RequestStage {
  return {
    id: FLEET_FRESHNESS_STAGE_ID,
    band: 'kill',
    side: 'request',
    summary: 'fleet freshness: a node without recent word from its control plane refuses new requests (fleet.on_stale)',
    evaluate() {
      const why = fleet.refusal();
      return why === null ? null : block(FLEET_FRESHNESS_STAGE_ID, 'ALT_FLEET_STALE', why);
    },
  };
}
