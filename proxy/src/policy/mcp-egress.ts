// `mcp.servers.<name>.egress`: where a server Altrace launches (altrace mcp wrap) may connect or
// send. Each entry is an address or CIDR, or a host name the node resolves, with optional ports;
// the node agent confines the server's processes to them in the kernel (agent/src/node/mcp-egress.ts).
import { isIP } from 'node:net';
import { parseAllowEntry } from './allow-entry.js';

/** At most this many ports per server: the kernel's allow entry holds eight per address. */
export const MAX_EGRESS_PORTS = 8;

export type EgressEntry = { kind: 'net'; net: string; ports: number[] } | { kind: 'host'; host: string; ports: number[] };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function isHostName(name: string): boolean {
  const labels = name.replace(/\.$/, '').split('.');
  return name.length <= 253 && labels.every((l) => LABEL.test(l)) && !/^[\d.]+$/.test(name);
}

/** `addr[/n][:p,p]`, `[v6][/n]:p,p`, a bare IPv6 address or CIDR, or `host.name[:p,p]`. Throws naming what is wrong. */
export function parseEgressEntry(text: string): EgressEntry {
  if (text.includes('*')) throw new Error(`${text}: a pattern cannot be resolved ahead of a connect; name each host`);
  const head = text.startsWith('[') ? text.slice(1).split(']')[0]! : text.split(/[/:]/)[0]!;
  if (isIP(head) !== 0 || (isIP(text.split('/')[0]!) === 6)) {
    const { net, ports } = parseAllowEntry(text);
    return { kind: 'net', net, ports };
  }
  const m = /^([^:]+)(?::([\d,]+))?$/.exec(text);
  if (!m || !isHostName(m[1]!)) throw new Error(`${text}: not an address, CIDR or host name with optional :ports`);
  const ports = m[2] === undefined ? [] : m[2].split(',').map(Number);
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new Error(`${text}: port out of range`);
  return { kind: 'host', host: m[1]!.toLowerCase().replace(/\.$/, ''), ports };
}

/** The entries of one server, or the first problem (its index and message). */
export function parseEgress(texts: readonly string[]): { entries: EgressEntry[] } | { index: number; message: string } {
  const entries: EgressEntry[] = [];
  const ports = new Set<number>();
  for (const [index, text] of texts.entries()) {
    try {
      const entry = parseEgressEntry(text);
      entry.ports.forEach((p) => ports.add(p));
      entries.push(entry);
    } catch (err) {
      return { index, message: (err as Error).message };
    }
  }
  if (ports.size > MAX_EGRESS_PORTS) return { index: texts.length - 1, message: `names ${ports.size} distinct ports: at most ${MAX_EGRESS_PORTS} per server` };
  return { entries };
}
