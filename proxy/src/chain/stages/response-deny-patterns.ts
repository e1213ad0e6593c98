import type { PolicyHolder } from '../../policy/policy.js';
import { nextCarry } from '../../scan/match.js';
import type { ScanPool } from '../../scan/pool.js';
import { CARRY_LIMIT } from '../../scan/worker.js';
import type { Fragment } from '../../core/fragment.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';
import { block } from '../../core/verdict.js';

const ID = 'response-deny-patterns';

/**
 * Runs the policy's deny patterns over every response fragment on the scan workers. A
 * literal prefilter on the event loop lets windows that cannot match skip the worker hop.
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
      const { denyPatterns: set, denyPrefilter: prefilter } = policy.current;
      if (set.patterns.length === 0) return null;
      let carry = '';
      return {
        inspect(fragments: readonly Fragment[]): FragmentFinding | null | Promise<FragmentFinding | null> {
          const texts = fragments.map((f) => f.text);
          if (texts.every((t) => t.length === 0)) return null;
          const window = nextCarry(carry, texts, Infinity);
          const advance = () => {
            carry = window.length > CARRY_LIMIT ? window.slice(window.length - CARRY_LIMIT) : window;
          };
          if (!prefilter.mayMatch(window)) {
            advance();
            return null;
          }
          return pool.run({ kind: 'patterns', set, carry, texts }).then((hit) => {
            if (hit) return { index: hit.index, verdict: block(ID, 'ALT_RESPONSE_PATTERN_DENIED', `pattern ${hit.patternId}`) };
            advance();
            return null;
          });
        },
        close() {},
      };
    },
  };
}
