import type { ContentPolicy } from '../../policy/content.js';
import { newCanary, plantCanary } from '../../scan/canary.js';
import type { RequestStage } from '../stage.js';

const ID = 'canary';

/**
 * Plants a canary in the system prompt of every request that has one (`content.canary: true`);
 * `content-response` cuts a response that repeats it. Never refuses: a call with no system
 * prompt to carry it goes as it is.
 */
export function canary(policy: { readonly current: { readonly content: ContentPolicy } }): RequestStage {
  return {
    id: ID,
    band: 'content',
    side: 'request',
    place: 'loop',
    ahead: () => true,
    summary: 'plants a canary token in the system prompt (content.canary); a response repeating it is cut',
    evaluate(ctx) {
      const content = policy.current.content;
      if (!content.enabled || !content.canary || !ctx.call || ctx.call.operation === 'count_tokens') return null;
      const token = newCanary();
      const planted = plantCanary(ctx.call, ctx.rewritten?.json ?? ctx.json, token);
      if (planted === null) return null;
      ctx.rewritten = { json: planted, bytes: Buffer.from(JSON.stringify(planted)) };
      ctx.canary = token;
      return null;
    },
  };
}
