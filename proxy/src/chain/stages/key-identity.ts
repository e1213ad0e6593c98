import type { KeyRegistry } from '../../identity/keys.js';
import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';
import { podKeyId } from '../../identity/pod.js';

const ID = 'key-identity';

/** Turns the presented virtual key into a principal, or refuses the request. */
export function keyIdentity(keys: KeyRegistry, enforceOnly: boolean, now: () => number = Date.now): RequestStage {
  return {
    id: ID,
    band: 'identity',
    side: 'request',
    summary: 'virtual key identity: missing, unknown, expired and revoked keys are refused; a pod that declares its agent is that agent without a key, and a key of another agent from it is refused',
    evaluate(ctx) {
      const secret = ctx.presented.virtual;
      const hash = ctx.presented.virtualHash;
      if (secret === null && hash === undefined) {
        // The pod declares its agent (node enforcement knows the pod): governed as it, keyless.
        if (ctx.pod?.agent && ctx.principal?.keyId === podKeyId(ctx.pod) && ctx.presented.realIn === null) return null;
        if (!enforceOnly && ctx.presented.realIn !== null) return null;
        return block(ID, 'ALT_KEY_MISSING');
      }
      const key = secret !== null ? keys.findBySecret(secret) : keys.findByHash(hash!);
      if (!key) return block(ID, 'ALT_KEY_UNKNOWN');
      if (key.revokedAt !== null) return block(ID, 'ALT_KEY_REVOKED', `key ${key.id}`);
      if (key.expiresAt !== null && key.expiresAt <= now()) return block(ID, 'ALT_KEY_EXPIRED', `key ${key.id}`);
      // A key is its agent's: from a pod that declares another agent it is a stolen key.
      if (ctx.pod?.agent && ctx.pod.agent !== key.agent) return block(ID, 'ALT_KEY_POD_MISMATCH', `key ${key.id} of agent ${key.agent} from pod ${ctx.pod.namespace}/${ctx.pod.name} (agent ${ctx.pod.agent})`);
      ctx.key = key;
      ctx.principal = { keyId: key.id, agent: key.agent, team: key.team };
      return null;
    },
  };
}
