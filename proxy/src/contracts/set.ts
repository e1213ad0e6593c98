import { ContractError, type Contract } from './compile.js';

const CACHE_LIMIT = 50_000;

/**
 * Every contract in force, indexed for the hot path: a principal's contracts are found by
 * agent and team name (plus `*` entries) and cached per principal until the next reload
 * replaces the set.
 */
export class ContractSet {
  readonly all: readonly Contract[];
  /** Agents no contract covers are refused (ALT_CONTRACT_MISSING). */
  readonly require: boolean;
  /** For each prerequisite tool, the argument paths evidence rules bind on its side. */
  readonly evidencePaths: ReadonlyMap<string, readonly string[]>;
  readonly #byAgent = new Map<string, Contract[]>();
  readonly #byTeam = new Map<string, Contract[]>();
  readonly #cache = new Map<string, readonly Contract[]>();

  constructor(contracts: readonly Contract[], require: boolean) {
    this.all = contracts;
    this.require = require;
    const names = new Map<string, string>();
    const paths = new Map<string, Set<string>>();
    for (const c of contracts) {
      const other = names.get(c.name);
      if (other) throw new ContractError(`contract "${c.name}" is declared twice (${other} and ${c.source})`, 'contract');
      names.set(c.name, c.source);
      for (const a of c.agents) push(this.#byAgent, a, c);
      for (const t of c.teams) push(this.#byTeam, t, c);
      for (const r of c.evidence) {
        let set = paths.get(r.requires);
        if (!set) paths.set(r.requires, (set = new Set()));
        for (const [, theirs] of r.match) set.add(theirs);
      }
    }
    this.evidencePaths = new Map([...paths].map(([tool, set]) => [tool, [...set]]));
  }

  /** The contracts that govern a principal: its agent's and its team's; every one must allow. */
  forPrincipal(agent: string, team: string): readonly Contract[] {
    const key = `${agent}\u0000${team}`;
    let found = this.#cache.get(key);
    if (found) return found;
    const set = new Set<Contract>([
      ...(this.#byAgent.get(agent) ?? []),
      ...(this.#byAgent.get('*') ?? []),
      ...(this.#byTeam.get(team) ?? []),
      ...(this.#byTeam.get('*') ?? []),
    ]);
    found = [...set];
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(key, found);
    return found;
  }
}

function push(map: Map<string, Contract[]>, key: string, c: Contract): void {
  const list = map.get(key);
  if (list) list.push(c);
  else map.set(key, [c]);
}

export const NO_CONTRACTS = new ContractSet([], false);
