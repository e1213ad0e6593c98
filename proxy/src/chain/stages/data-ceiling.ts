import type { Contract } from '../../contracts/compile.js';
import { classRank, type DataClass } from '../../delegation/grant.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';

const ID = 'data-ceiling';

/** The classification of a data label: secrets, cards and national ids are restricted; other personal data confidential. */
export function classOf(label: string): DataClass {
  if (label === 'secret' || label.startsWith('secret.') || label.startsWith('pci') || label === 'pii.national_id') return 'restricted';
  if (label.startsWith('pii')) return 'confidential';
  return 'public';
}

function lowest(contracts: readonly Contract[]): Contract | null {
  let low: Contract | null = null;
  for (const c of contracts) if (c.dataCeiling && (!low || classRank(c.dataCeiling) < classRank(low.dataCeiling!))) low = c;
  return low;
}

/**
 * Data-classification ceilings of contracts and delegations: the labels the request still
 * carries as it leaves (after redaction) must not be above the lowest ceiling that applies.
 * With content classification off the labels are unknown, and a ceiling refuses (fail closed).
 */
export function dataCeiling(policy: PolicyHolder): RequestStage {
  return {
    id: ID,
    band: 'content',
    side: 'request',
    summary: 'data-classification ceilings of the contracts and delegation: what leaves may not be above public, confidential or restricted',
    evaluate(ctx) {
      // The contract stage put the delegation's grant among them.
      const c = ctx.contracts ? lowest(ctx.contracts) : null;
      if (!c) return null;
      const ceiling = c.dataCeiling!;
      if (!policy.current.content.enabled) {
        return block(ID, 'ALT_DATA_CEILING', `${c.ref}: content classification is off`, `Contract ${c.ref} limits data to ${ceiling}, and content classification is off in the policy, so the request cannot be shown to be within it.`);
      }
      const above = [...(ctx.content?.outbound ?? [])].filter((l) => classRank(classOf(l)) > classRank(ceiling));
      if (above.length === 0) return null;
      return block(ID, 'ALT_DATA_CEILING', `${c.ref}: ${above.join(', ')} above ${ceiling}`, `Contract ${c.ref} allows ${ceiling} data at most; the request carries ${above.join(', ')}. Remove or mask it.`);
    },
  };
}
