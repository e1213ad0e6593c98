// What the last tools/list answers said about pinned tools: a tool found changed stays refused for
// calls until an answer shows it as approved again (or the pins change), so an agent that kept the
// old list cannot call the rewritten tool.
export class ChangedTools {
  readonly #changed = new Map<string, Set<string>>();

  mark(server: string, tool: string): void {
    let set = this.#changed.get(server);
    if (!set) this.#changed.set(server, (set = new Set()));
    set.add(tool);
  }

  clear(server: string, tool: string): void {
    this.#changed.get(server)?.delete(tool);
  }

  has(server: string, tool: string): boolean {
    return this.#changed.get(server)?.has(tool) ?? false;
  }
}

/** Names one edit apart (a letter added, dropped, swapped or changed) or equal but for case: how a squatting name looks. */
export function nameCollides(a: string, b: string): boolean {
  return lowerNamesCollide(a.toLowerCase(), b.toLowerCase());
}

function lowerNamesCollide(x: string, y: string): boolean {
  if (x === y) return true;
  // Short names are one edit apart from many honest ones (get/set, read/head).
  if (Math.min(x.length, y.length) < 6 || Math.abs(x.length - y.length) > 1) return false;
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  if (x.length === y.length) {
    if (x.slice(i + 1) === y.slice(i + 1)) return true; // one substitution
    return x[i] === y[i + 1] && x[i + 1] === y[i] && x.slice(i + 2) === y.slice(i + 2); // one transposition
  }
  const [long, short] = x.length > y.length ? [x, y] : [y, x];
  return long.slice(i + 1) === short.slice(i); // one insertion
}

/** A tool another server listed that a name collides with. */
export interface Collision {
  server: string;
  tool: string;
}

/**
 * The tool names each server's last passing `tools/list` showed each agent. An agent's model
 * reads every list it was given side by side, so two servers offering look-alike names to the
 * same agent is shadowing whether or not either is pinned: the later list is refused, and its
 * look-alikes stay refused for calls until that server lists without them. Bounded: the least
 * recently listing agents go first.
 */
export class ListedTools {
  readonly #byAgent = new Map<string, AgentLists>();

  constructor(private readonly maxAgents = 10_000) {}

  /** The first tool of another server, listed to this agent, that `name` collides with. */
  collision(agent: string, server: string, name: string): Collision | null {
    const lists = this.#byAgent.get(agent)?.lists;
    if (!lists) return null;
    const lower = name.toLowerCase();
    for (const [other, tools] of lists) {
      if (other === server) continue;
      for (let i = 0; i < tools.lower.length; i++) if (lowerNamesCollide(lower, tools.lower[i]!)) return { server: other, tool: tools.names[i]! };
    }
    return null;
  }

  /** A list of `server` was refused because `tool` collides with `by`: calls of it are refused too. */
  shadowed(agent: string, server: string, tool: string, by: Collision): void {
    const a = this.#agent(agent);
    let tools = a.shadows.get(server);
    if (!tools) a.shadows.set(server, (tools = new Map()));
    tools.set(tool, by);
  }

  /** What a call of `tool` on `server` would shadow, when its list was refused for it. */
  shadowing(agent: string, server: string, tool: string): Collision | null {
    return this.#byAgent.get(agent)?.shadows.get(server)?.get(tool) ?? null;
  }

  /** The names a list showed this agent (replacing what the server showed it before; what was refused of it is forgiven). */
  record(agent: string, server: string, names: readonly string[]): void {
    const a = this.#agent(agent);
    a.lists.set(server, { names, lower: names.map((n) => n.toLowerCase()) });
    a.shadows.delete(server);
  }

  #agent(agent: string): AgentLists {
    let a = this.#byAgent.get(agent);
    if (a) this.#byAgent.delete(agent);
    else a = { lists: new Map(), shadows: new Map() };
    this.#byAgent.set(agent, a);
    if (this.#byAgent.size > this.maxAgents) this.#byAgent.delete(this.#byAgent.keys().next().value!);
    return a;
  }
}

interface AgentLists {
  /** Per server: the names as listed, and lower-cased (compared many times, lowered once). */
  lists: Map<string, { names: readonly string[]; lower: readonly string[] }>;
  /** Per server: its tools refused as look-alikes, and what each shadows. */
  shadows: Map<string, Map<string, Collision>>;
}
