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
  const x = a.toLowerCase();
  const y = b.toLowerCase();
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
