import { isIP } from 'node:net';

/** One declared destination of strict mode: an address or CIDR, and its ports (none: any). */
export interface AllowEntry {
  net: string;
  ports: number[];
}

/** `addr[/n][:p,p]`, `[v6][/n]:p,p`, or a bare IPv6 address or CIDR. */
export function parseAllowEntry(text: string): AllowEntry {
  const bracketed = /^\[([^\]]+)\](\/\d{1,3})?(?::([\d,]+))?$/.exec(text);
  let net: string;
  let ports: string | undefined;
  if (bracketed) {
    net = bracketed[1]! + (bracketed[2] ?? '');
    ports = bracketed[3];
  } else if (isIP(text.split('/')[0]!) === 6) {
    net = text;
  } else {
    const m = /^([^:]+?)(?::([\d,]+))?$/.exec(text);
    if (!m) throw new Error(`not an address or CIDR with optional :ports: ${text}`);
    net = m[1]!;
    ports = m[2];
  }
  if (isIP(net.split('/')[0]!) === 0) throw new Error(`not an address or CIDR: ${text}`);
  const list = ports === undefined ? [] : ports.split(',').map(Number);
  if (list.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new Error(`port out of range in ${text}`);
  if (list.length > 8) throw new Error(`at most 8 ports per entry: ${text}`);
  return { net, ports: list };
}
