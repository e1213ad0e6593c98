import type { KeyRegistry } from '../../identity/keys.js';
import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';

const ID = 'key-identity';

/** Turns the presented virtual key into a principal, or refuses the request. */
export function keyIdentity(keys: KeyRegistry, enforceOnly: boolean, now: () => number = Date.now): RequestStage {
  return {
    id: ID,
    band: 'identity',
    side: 'request',
    summary: 'virtual key identity: missing, unknown, expired and revoked keys are refused',
    evaluate(ctx) {
      const secret = ctx.presented.virtual;
      if (secret === null) {
        if (!enforceOnly && ctx.presented.realIn !== null) return null;
        return block(ID, 'ALT_KEY_MISSING');
      }
      const key = keys.findBySecret(secret);
      if (!key) return block(ID, 'ALT_KEY_UNKNOWN');
      if (key.revokedAt !== null) return block(ID, 'ALT_KEY_REVOKED', `key ${key.id}`);
      if (key.expiresAt !== null && key.expiresAt <= now()) return block(ID, 'ALT_KEY_EXPIRED', `key ${key.id}`);
      ctx.key = key;
      ctx.principal = { keyId: key.id, agent: key.agent, team: key.team };
      return null;
    },
  };
}
