import { normalise } from './leak.js';

/**
 * Which provider saw or produced which data, per run: the data-flow labels behind
 * cross-provider isolation. Texts are kept as sampled hashes of 32-character runs (case and
 * whitespace normalised), never as text. Sampling by hash value picks the same runs on both
 * sides, so a passage of a few dozen characters that moves from one provider to another is
 * recognised; memory per run and the number of runs are bounded.
 */
const RUN = 32;
const SAMPLE = 4;
const MAX_HASHES_PER_PROVIDER = 20_000;
const BASE = 257;
const MOD = 2_147_483_629;

function highPower(): number {
  let p = 1;
  for (let i = 0; i < RUN - 1; i++) p = (p * BASE) % MOD;
  return p;
}
const HIGH = highPower();

export function sampledHashes(text: string): number[] {
  const t = normalise(text);
  const out: number[] = [];
  let h = 0;
  for (let i = 0; i < t.length; i++) {
    if (i >= RUN) h = (h - ((t.charCodeAt(i - RUN) * HIGH) % MOD) + MOD) % MOD;
    h = (h * BASE + t.charCodeAt(i)) % MOD;
    if (i >= RUN - 1 && h % SAMPLE === 0) out.push(h);
  }
  return out;
}

interface RunFlow {
  lastSeen: number;
  byProvider: Map<string, Set<number>>;
}

export class DataFlow {
  readonly #runs = new Map<string, RunFlow>();

  constructor(
    private readonly maxRuns = 10_000,
    private readonly idleMs = 3_600_000,
  ) {}

  /** Notes that `provider` saw or produced `text` in this run. */
  record(run: string, provider: string, text: string, now = Date.now()): void {
    const hashes = sampledHashes(text);
    if (hashes.length === 0) return;
    let flow = this.#runs.get(run);
    if (!flow) {
      this.#evict(now);
      flow = { lastSeen: now, byProvider: new Map() };
      this.#runs.set(run, flow);
    }
    flow.lastSeen = now;
    let seen = flow.byProvider.get(provider);
    if (!seen) flow.byProvider.set(provider, (seen = new Set()));
    for (const h of hashes) if (seen.size < MAX_HASHES_PER_PROVIDER) seen.add(h);
  }

  /** Another provider of this run that saw or produced part of `text`, or null. */
  originOf(run: string, text: string, provider: string): string | null {
    const flow = this.#runs.get(run);
    if (!flow) return null;
    const hashes = sampledHashes(text);
    for (const [other, seen] of flow.byProvider) {
      if (other === provider) continue;
      for (const h of hashes) if (seen.has(h)) return other;
    }
    return null;
  }

  #evict(now: number): void {
    for (const [run, flow] of this.#runs) if (now - flow.lastSeen > this.idleMs) this.#runs.delete(run);
    // Still full: drop the least recently used (Map order is insertion; good enough as a bound).
    while (this.#runs.size >= this.maxRuns) this.#runs.delete(this.#runs.keys().next().value!);
  }
}
