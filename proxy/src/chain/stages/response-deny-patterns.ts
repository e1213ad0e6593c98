import type { PolicyHolder } from '../../policy/policy.js';
import { nextCarry } from '../../scan/match.js';
import type { ScanPool } from '../../scan/pool.js';
import { CARRY_LIMIT } from '../../scan/worker.js';
import type { Fragment } from '../context.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';
import { block } from '../verdict.js';

const ID = 'response-deny-patterns';

/**
 * Runs the policy's deny patterns over every response fragment on the scan workers.
 * The inspector is awaited batch by batch, so the order within a stream is the order
 * of delivery, and a slow scan holds the stream back instead of buffering it.
 */
export function responseDenyPatterns(policy: PolicyHolder, pool: ScanPool): ResponseStage {
  return {
    id: ID,
    band: 'content',
    side: 'response',
    summary: 'deny-pattern list over every response fragment, on worker threads, in order per stream',
    open() {
      const set = policy.current.denyPatterns;
      if (set.patterns.length === 0) return null;
      let carry = '';
      return {
        async inspect(fragments: readonly Fragment[]): Promise<FragmentFinding | null> {
          const texts = fragments.map((f) => f.text);
          if (texts.every((t) => t.length === 0)) return null;
          const hit = await pool.run({ set, carry, texts });
          if (hit) return { index: hit.index, verdict: block(ID, 'ALT_RESPONSE_PATTERN_DENIED', `pattern ${hit.patternId}`) };
          carry = nextCarry(carry, texts, CARRY_LIMIT);
          return null;
        },
        close() {},
      };
    },
  };
}
