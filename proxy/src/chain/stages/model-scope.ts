import { globToRegExp, matchesAny, type PolicyHolder } from '../../policy/policy.js';
import type { VirtualKey } from '../../identity/keys.js';
import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';

const ID = 'model-scope';

const keyGlobs = new WeakMap<VirtualKey, RegExp[]>();

function globsOf(key: VirtualKey): RegExp[] {
  let g = keyGlobs.get(key);
  if (!g) keyGlobs.set(key, (g = key.models.map(globToRegExp)));
  return g;
}

/** The model must be in the policy's catalog for its upstream and in the key's scope. */
export function modelScope(policy: PolicyHolder): RequestStage {
  return {
    id: ID,
    band: 'contract',
    side: 'request',
    summary: "model scope: the policy catalog of each upstream and the key's allowed models",
    evaluate(ctx) {
      const call = ctx.call;
      if (!call || call.operation === 'models' || call.operation === 'mcp') return null;
      if (call.model === null) return block(ID, 'ALT_MODEL_MISSING');
      const catalog = policy.current.catalog.get(call.upstream);
      if (catalog && !matchesAny(catalog, call.model)) {
        return block(ID, 'ALT_MODEL_UNKNOWN', `model ${call.model} on ${call.upstream}`, `Use a model in the policy catalog for ${call.upstream}.`);
      }
      const key = ctx.key;
      if (key && key.models.length > 0 && !matchesAny(globsOf(key), call.model)) {
        return block(ID, 'ALT_MODEL_NOT_ALLOWED', `model ${call.model}`, `Use a model this key allows: ${key.models.join(', ')}.`);
      }
      return null;
    },
  };
}
