import type { RequestStage } from '../stage.js';
import { block, warn } from '../../core/verdict.js';

const ID = 'enforce-only';

/**
 * Real provider keys never travel through Altrace in enforce-only mode: an agent that
 * holds one could go around governance. Outside it they pass, and every pass is a warning.
 */
export function enforceOnly(enabled: boolean): RequestStage {
  return {
    id: ID,
    band: 'identity',
    side: 'request',
    place: 'loop',
    summary: enabled ? 'refuses any request that carries a real provider key' : 'passes real provider keys through, with a warning (enforce_only is off)',
    evaluate({ presented }) {
      if (presented.realIn === null) return null;
      if (enabled) return block(ID, 'ALT_REAL_KEY_REJECTED', `real provider key presented in ${presented.realIn}`);
      return presented.virtual === null ? warn(ID, 'ALT_REAL_KEY_PASSTHROUGH', `real key in ${presented.realIn}`) : null;
    },
  };
}
