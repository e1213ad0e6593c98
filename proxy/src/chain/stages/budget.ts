import type { Charge } from '../../budget/charge.js';
import { isExceeded, type BudgetLedger, type ChargeSubjects, type Exceeded } from '../../budget/ledger.js';
import { costOf, type PriceTable } from '../../budget/prices.js';
import type { ProviderTokenCount } from '../../budget/provider-count.js';
import { REPLY_PRIMING, countWith, encodingFor, inputTokenBound, loadEncoding, type TokenCount } from '../../budget/tokens.js';
import { sentText } from '../context.js';
import type { DelegationBudgets } from '../../delegation/budgets.js';
import type { RequestStage } from '../stage.js';
import { block, type Verdict } from '../../core/verdict.js';

const ID = 'budget';
/** Operations the providers do not bill. */
const FREE = new Set(['models', 'count_tokens']);

function usd(n: number): string {
  return `$${n.toFixed(n < 1 ? 4 : 2)}`;
}

/** The request can succeed when the window resets (sooner only if reservations in flight settle lower). */
function exceeded(e: Exceeded, worst: number, now: number): Verdict {
  if (e.leasedUsd !== undefined) return leaseExhausted(e, worst);
  const left = Math.max(0, e.limit - e.spent - e.reserved);
  const v = block(
    ID,
    'ALT_BUDGET_EXCEEDED',
    `${e.window} budget of ${e.scope} ${e.target} (${usd(e.limit)}): ${usd(e.spent)} spent, ${usd(e.reserved)} reserved in flight, this request may cost up to ${usd(worst)}`,
    `The ${e.window} budget of ${e.scope} ${e.target} has ${usd(left)} left and this request may cost up to ${usd(worst)}: lower max_tokens or send less input, or wait until ${new Date(e.resetsAt).toISOString()} when the window resets.`,
  );
  v.retryAfterMs = Math.max(0, e.resetsAt - now);
  return v;
}

/**
 * A followed node refused by what it holds of the budget, not by the budget: its control plane
 * may have more to lease (it was asked), or other nodes hold the rest until they return it.
 */
function leaseExhausted(e: Exceeded, worst: number): Verdict {
  const v = block(
    ID,
    'ALT_BUDGET_EXCEEDED',
    `${e.window} budget of ${e.scope} ${e.target} (${usd(e.limit)}): this node holds a lease of ${usd(e.leasedUsd!)} with ${usd(e.spent)} spent and ${usd(e.reserved)} reserved, this request may cost up to ${usd(worst)}`,
    `This node has leased ${usd(e.leasedUsd!)} of the ${e.window} budget of ${e.scope} ${e.target} (${usd(e.limit)}) and it is spent; it has asked its control plane for more. Retry in a second; if the budget is spent fleet-wide the refusal stays.`,
  );
  v.retryAfterMs = 1000;
  return v;
}

/**
 * Hard budgets: reserves the request's worst-case cost (input upper bound plus max_tokens or
 * the model's output limit, at the price table's rates) on every budget that covers the key,
 * agent, team and cost center, or refuses it before the provider is called. The cheap byte
 * bound decides almost always; only a request that would not fit is counted with the
 * model's own tokenizer (the encoding in process, or the provider's count endpoint) before
 * it is refused.
 */
export function budgetStage(
  ledger: BudgetLedger,
  prices: { readonly current: PriceTable },
  providerCount: ProviderTokenCount | null = null,
  delegation: DelegationBudgets | null = null,
  now: () => number = Date.now,
): RequestStage {
  return {
    id: ID,
    band: 'budget',
    side: 'request',
    summary: 'hard budgets per key, agent, team and cost center: worst-case cost reserved before the call, settled from reported usage',
    evaluate(ctx) {
      const call = ctx.call;
      const p = ctx.principal;
      if (!call || !p || FREE.has(call.operation) || !call.model) return null;
      const subjects: ChargeSubjects = { key: p.keyId, agent: p.agent, team: p.team, cost_center: ctx.key?.costCenter ?? null };
      const fnHeader = ctx.headers['x-altrace-function'];
      const fn = typeof fnHeader === 'string' && fnHeader.length > 0 ? fnHeader.slice(0, 200) : null;
      const priceKey = call.upstream === call.provider || call.provider === 'azure' ? call.provider : call.upstream;
      const price = prices.current.lookup(priceKey, call.model);
      const encoding = encodingFor(call.provider, call.model);
      const delegated = ctx.delegation?.chain.budgets ?? [];
      if (!price) {
        if (ledger.governs(subjects) || delegated.length > 0) {
          return block(ID, 'ALT_PRICE_UNKNOWN', `no price for ${priceKey} ${call.model} in price table ${prices.current.version}`);
        }
        ctx.charge = { subjects, price: null, reservation: null, inputTokens: 0, encoding, fn };
        return null;
      }
      const maxOutput = call.operation === 'embeddings' ? 0 : Math.min(call.maxTokens ?? price.maxOutput, price.maxOutput);
      const attempt = (count: TokenCount): Verdict | null => {
        const worst = costOf(price, { input: count.tokens, output: maxOutput, cachedInput: 0 });
        const over = delegated.length && delegation ? delegation.exceeded(delegated, worst) : null;
        if (over) {
          return block(
            ID,
            'ALT_DELEGATION_BUDGET_EXCEEDED',
            `delegation link ${over.id.slice(0, 12)} (${usd(over.limit)}): ${usd(over.spent)} spent, ${usd(over.reserved)} reserved, this request may cost up to ${usd(worst)}`,
            `Your delegation allows ${usd(over.limit)} in all and has ${usd(Math.max(0, over.limit - over.spent - over.reserved))} left; this request may cost up to ${usd(worst)}: ask for less, or for a new delegation.`,
          );
        }
        const at = now();
        const r = ledger.reserve(subjects, worst, at);
        if (isExceeded(r)) return exceeded(r, worst, at);
        const reservation = delegated.length && delegation ? delegation.reserve(r, delegated) : r;
        ctx.charge = { subjects, price, reservation, inputTokens: count.tokens, encoding, fn };
        return null;
      };
      // What the provider will receive: a content stage may have rewritten the body (redaction, canary).
      const sentBytes = ctx.sent ? ctx.sent.bytes : ctx.rewritten ? ctx.rewritten.bytes.byteLength : ctx.ingress.bodyBytes;
      const bound = attempt(inputTokenBound(sentBytes));
      if (bound === null) return null;
      if (encoding === null) {
        if (!providerCount) return bound;
        // Near the limit: the provider's own count endpoint, before refusing.
        const parsed = ctx.sent ? ctx.sent.text().then(parseBody) : parseBody(sentText(ctx));
        return Promise.resolve(parsed)
          .then((body) => providerCount(call, body, ctx.headers))
          .then((n) => (n !== null && n + REPLY_PRIMING < sentBytes ? attempt({ tokens: n + REPLY_PRIMING, method: 'provider' }) : bound));
      }
      // Near the limit: count with the model's encoding (loaded on first need) before refusing.
      const exact = (text: string): Verdict | null => {
        const counted = countWith(encoding, text);
        return counted && counted.tokens < sentBytes ? attempt(counted) : bound;
      };
      if (ctx.sent) {
        const sent = ctx.sent;
        return (countWith(encoding, '') ? sent.text() : loadEncoding(encoding).then(() => sent.text())).then(exact);
      }
      return countWith(encoding, '') ? exact(sentText(ctx)) : loadEncoding(encoding).then(() => exact(sentText(ctx)));
    },
  };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

