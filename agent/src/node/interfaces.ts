import { readdirSync, readFileSync } from 'node:fs';

/** An interface name matches a pattern where `*` stands for any run of characters. */
export function matchesInterface(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name));
}

export interface HostInterface {
  name: string;
  ifindex: number;
}

/** The node's interfaces (this network namespace's), by name and index. */
export function hostInterfaces(sysClassNet = '/sys/class/net'): HostInterface[] {
  const out: HostInterface[] = [];
  for (const name of readdirSync(sysClassNet)) {
    try {
      out.push({ name, ifindex: Number(readFileSync(`${sysClassNet}/${name}/ifindex`, 'utf8').trim()) });
    } catch {
      // Gone between the listing and the read: a pod that ended.
    }
  }
  return out;
}

/**
 * Finds pods' host-side interfaces as they appear (a veth is created with its pod), by polling
 * the interface list: `onAppear` for each new match, `onGone` when its index disappears.
 * Polling, not netlink: one directory read a second costs nothing, and a pod's first packets
 * before the next poll still meet the socket programs, which govern every connect it makes.
 */
export class InterfaceWatcher {
  readonly #known = new Map<number, string>();
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly patterns: readonly string[],
    private readonly onAppear: (i: HostInterface) => void,
    private readonly onGone: (i: HostInterface) => void,
    private readonly list: () => HostInterface[] = hostInterfaces,
  ) {}

  start(intervalMs: number): void {
    this.scan();
    this.#timer = setInterval(() => this.scan(), intervalMs);
    this.#timer.unref();
  }

  /** One pass: new matching interfaces attached, vanished ones forgotten. */
  scan(): void {
    const now = new Map(this.list().filter((i) => matchesInterface(i.name, this.patterns)).map((i) => [i.ifindex, i.name]));
    for (const [ifindex, name] of now) if (this.#known.get(ifindex) !== name) {
      this.#known.set(ifindex, name);
      this.onAppear({ name, ifindex });
    }
    for (const [ifindex, name] of this.#known) if (!now.has(ifindex)) {
      this.#known.delete(ifindex);
      this.onGone({ name, ifindex });
    }
  }

  names(): Map<number, string> {
    return new Map(this.#known);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
