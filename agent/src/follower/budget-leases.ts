// A followed node's side of budget leases (docs/fleet.md, "Budgets: leases"). The node may have
// spent plus reserved, in a budget window, at most what it leased there; the ledger asks this at
// every reservation (LeaseCaps) and the answer never waits: below a low watermark it asks its
// control plane for the next lease in the background. Consumed leases are returned, the rest on
// idle, at the window's end and at shutdown; live ones are renewed before their time to live.
import { randomBytes } from 'node:crypto';
import { WINDOWS, windowStartDay, type Budget, type BudgetLedger, type BudgetScope, type Counter, type LeaseCaps, type Logger, type Window } from '../../../proxy/src/index.js';
import type { FrameLink } from '../fleet/frames.js';

interface Held {
  id: string;
  usd: number;
  expiresAt: number;
  /** Its time to live as granted: renewed once half of it is left. */
  ttlMs: number;
  renewAskedAt: number;
}

/** One budget window's leases on this node. */
interface WindowLeases {
  scope: BudgetScope;
  target: string;
  window: Window;
  windowStart: string;
  counter: Counter;
  /** The counter's spent + reserved when this node began leasing the window: spend before it is not charged to leases. */
  base: number;
  /** Spend reported on leases returned (or expired) so far. */
  returned: number;
  held: Held[];
  /** The size of the last grant: the watermark is a quarter of it. */
  lastGrant: number;
  asking: { id: string; since: number } | null;
  /** No asking again before this (after a refusal, or with no stream). */
  quietUntil: number;
  lastUse: number;
}

export interface LeaseHolderOptions {
  ledger: BudgetLedger;
  logger: Logger;
  /** How long a lease may sit unused before it goes back with what was spent of it (default 30 s). */
  idleReturnMs?: number;
  now?: () => number;
}

const ASK_TIMEOUT_MS = 5_000;
const RETRY_AFTER_REFUSAL_MS = 1_000;
const TICK_MS = 250;
const RENEW_RETRY_MS = 2_000;
/** A window that ended is returned once its last reservation settled, or after this. */
const END_GRACE_MS = 30_000;

const usdOf = (held: Held[]) => held.reduce((a, h) => a + h.usd, 0);

export class LeaseHolder implements LeaseCaps {
  readonly #windows = new Map<string, WindowLeases>();
  readonly #byRequest = new Map<string, WindowLeases>();
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;
  readonly #idleReturnMs: number;
  link: FrameLink | null = null;

  constructor(private readonly o: LeaseHolderOptions) {
    this.#now = o.now ?? Date.now;
    this.#idleReturnMs = o.idleReturnMs ?? 30_000;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  /** USD this node holds in leases now, over every window. */
  get heldUsd(): number {
    let sum = 0;
    for (const w of this.#windows.values()) sum += usdOf(w.held);
    return sum;
  }

  cap(scope: BudgetScope, target: string, window: Window, at: number, c: Counter): number {
    const w = this.#window(scope, target, window, at, c);
    w.lastUse = at;
    const cap = w.base + w.returned + usdOf(w.held);
    if (cap - c.spent - c.reserved < w.lastGrant / 4 || w.held.length === 0) this.#ask(w, at);
    return cap;
  }

  /** A budget set or changed: a lease for each of its windows is asked now, so the first request finds one. */
  prefetch(b: Budget): void {
    const at = this.#now();
    for (const window of WINDOWS) {
      if (b.limits[window] === null || b.limits[window] === undefined) continue;
      const w = this.#window(b.scope, b.target, window, at, this.o.ledger.counter(b.scope, b.target, window, at));
      if (w.held.length === 0) this.#ask(w, at);
    }
  }

  /** The control plane's answer to a request or a renewal. */
  onGrant(g: { request_id: string; lease_id: string; usd: number; expires_at: number; refused_reason: string }): void {
    if (g.request_id.startsWith('renew:')) return this.#renewed(g.request_id.slice(6), g);
    const w = this.#byRequest.get(g.request_id);
    if (!w) return;
    this.#byRequest.delete(g.request_id);
    if (w.asking?.id === g.request_id) w.asking = null;
    if (g.refused_reason) {
      w.quietUntil = this.#now() + RETRY_AFTER_REFUSAL_MS;
      return;
    }
    const now = this.#now();
    w.held.push({ id: g.lease_id, usd: g.usd, expiresAt: g.expires_at, ttlMs: Math.max(1000, g.expires_at - now), renewAskedAt: 0 });
    w.lastGrant = g.usd;
  }

  /** Shutdown: everything held goes back with what was spent of it. */
  close(): void {
    clearInterval(this.#timer);
    for (const w of this.#windows.values()) this.#returnAll(w);
  }

  #window(scope: BudgetScope, target: string, window: Window, at: number, c: Counter): WindowLeases {
    const windowStart = windowStartDay(window, at);
    const key = `${scope}\u0000${target}\u0000${window}\u0000${windowStart}`;
    let w = this.#windows.get(key);
    if (!w) {
      w = { scope, target, window, windowStart, counter: c, base: c.spent + c.reserved, returned: 0, held: [], lastGrant: 0, asking: null, quietUntil: 0, lastUse: at };
      this.#windows.set(key, w);
    }
    return w;
  }

  #ask(w: WindowLeases, at: number): void {
    if (w.asking || at < w.quietUntil) return;
    const limit = this.o.ledger.budget(w.scope, w.target)?.limits[w.window];
    if (limit === null || limit === undefined || !this.link) {
      w.quietUntil = at + RETRY_AFTER_REFUSAL_MS / 2;
      return;
    }
    const id = `lr_${randomBytes(6).toString('base64url')}`;
    // A tenth of the limit: the control plane caps it at fleet.lease_max_usd and at what is left.
    const want = Math.max(limit / 10, 0.0001);
    if (!this.link.send({ lease_request: { request_id: id, scope: w.scope, target: w.target, window: w.window, usd: want, window_start: w.windowStart } })) {
      w.quietUntil = at + RETRY_AFTER_REFUSAL_MS / 2;
      return;
    }
    w.asking = { id, since: at };
    this.#byRequest.set(id, w);
  }

  #renewed(leaseId: string, g: { usd: number; expires_at: number; refused_reason: string }): void {
    for (const w of this.#windows.values()) {
      const i = w.held.findIndex((h) => h.id === leaseId);
      if (i < 0) continue;
      if (!g.refused_reason) {
        w.held[i]!.expiresAt = g.expires_at;
        return;
      }
      // Expired on the control plane: charged there in full, so it stays spendable here up to its grant.
      const [lost] = w.held.splice(i, 1);
      w.returned += lost!.usd;
      this.o.logger.warn({ lease: leaseId, reason: g.refused_reason }, 'a budget lease was not renewed; the control plane charged it in full');
      return;
    }
  }

  #tick(): void {
    const now = this.#now();
    for (const [key, w] of this.#windows) {
      if (w.asking && now - w.asking.since > ASK_TIMEOUT_MS) {
        this.#byRequest.delete(w.asking.id);
        w.asking = null;
      }
      const ended = windowStartDay(w.window, now) !== w.windowStart;
      const idle = now - w.lastUse > this.#idleReturnMs;
      if ((ended && (w.counter.reserved === 0 || now - w.lastUse > END_GRACE_MS)) || (idle && w.counter.reserved === 0)) {
        this.#returnAll(w);
        if (ended) this.#windows.delete(key);
        continue;
      }
      this.#returnConsumed(w);
      for (const h of w.held) {
        if (h.expiresAt - now > h.ttlMs / 2 || now - h.renewAskedAt < RENEW_RETRY_MS) continue;
        if (this.link?.send({ lease_renew: { lease_id: h.id } })) h.renewAskedAt = now;
      }
    }
  }

  /** Leases wholly spent (settled) go back, oldest first, keeping the newest to spend from. */
  #returnConsumed(w: WindowLeases): void {
    while (w.held.length > 1) {
      const first = w.held[0]!;
      const settled = w.counter.spent - w.base - w.returned;
      if (settled < first.usd) return;
      if (!this.link?.send({ lease_return: { lease_id: first.id, spent_usd: first.usd } })) return;
      w.held.shift();
      w.returned += first.usd;
    }
  }

  /** Every lease back, each charged its share of what was spent, the last one any excess. */
  #returnAll(w: WindowLeases): void {
    if (w.held.length === 0 || !this.link) return;
    let left = Math.max(0, w.counter.spent + w.counter.reserved - w.base - w.returned);
    while (w.held.length > 0) {
      const h = w.held[0]!;
      const spent = w.held.length === 1 ? left : Math.min(left, h.usd);
      if (!this.link.send({ lease_return: { lease_id: h.id, spent_usd: spent } })) return;
      left -= spent;
      w.held.shift();
      w.returned += spent;
    }
  }
}
