// Who is asking the control API, by network address: the peer of the connection, or — only when
// that peer is a declared proxy (control.trusted_proxies) — the address it forwards for
// (the one header it writes, control.forwarded_header: X-Forwarded-For, or RFC 7239 Forwarded —
// the other is the client's own, passed through, and never read); and whether that address may ask at all
// (control.allow_cidrs). An address is judged as a whole: no forwarded header is believed from
// anyone else, and one that cannot be read is refused, not skipped.
import { BlockList, isIP } from 'node:net';

export type SourceRefusal = 'ALT_SOURCE_DENIED' | 'ALT_FORWARDED_UNTRUSTED' | 'ALT_FORWARDED_INVALID';

export type SourceJudgement = { ok: true; address: string } | { ok: false; address: string; code: SourceRefusal; message: string };

/** `::ffff:10.0.0.1` is 10.0.0.1: one spelling per address, so lists and lockouts agree. */
export function canonicalAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

/** A CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address; null when it is neither. */
export function parseCidr(text: string): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [net, bits, extra] = text.trim().split('/');
  if (extra !== undefined || !net) return null;
  const address = canonicalAddress(net);
  const v = isIP(address);
  if (v === 0) return null;
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
  if (prefix < 0 || prefix > max) return null;
  return { network: address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** A list of CIDRs; the index of the first that is not one, as an error naming it. */
export function compileCidrs(list: readonly string[]): { blocks: BlockList; bad: number | null } {
  const blocks = new BlockList();
  for (let i = 0; i < list.length; i++) {
    const c = parseCidr(list[i]!);
    if (!c) return { blocks, bad: i };
    blocks.addSubnet(c.network, c.prefix, c.family);
  }
  return { blocks, bad: null };
}

function contains(blocks: BlockList, address: string): boolean {
  const v = isIP(address);
  return v !== 0 && blocks.check(address, v === 4 ? 'ipv4' : 'ipv6');
}

/** One `for=` of RFC 7239 (quoted, `[v6]:port`, `v4:port`), or an X-Forwarded-For entry: the address, or null. */
function forwardedAddress(raw: string): string | null {
  let v = raw.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(v);
  if (bracketed) v = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d{1,5}$/.test(v)) v = v.slice(0, v.lastIndexOf(':'));
  const address = canonicalAddress(v);
  return isIP(address) ? address : null;
}

export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

/** The addresses the proxy's forwarded header lists, nearest proxy last; null when one cannot be read (`unknown`, `_obfuscated`, garbage). */
function forwardedChain(headers: Record<string, string | string[] | undefined>, which: ForwardedHeader): { header: string; chain: string[] | null } | null {
  const forwarded = which === 'forwarded' ? headers.forwarded : undefined;
  if (forwarded !== undefined) {
    const fors: string[] = [];
    for (const element of String(forwarded).split(',')) {
      const pair = element.split(';').map((p) => p.trim()).find((p) => /^for=/i.test(p));
      if (!pair) return { header: 'Forwarded', chain: null };
      const a = forwardedAddress(pair.slice(4));
      if (!a) return { header: 'Forwarded', chain: null };
      fors.push(a);
    }
    return { header: 'Forwarded', chain: fors };
  }
  const xff = which === 'x-forwarded-for' ? headers['x-forwarded-for'] : undefined;
  if (xff === undefined) return null;
  const chain = String(xff).split(',').map(forwardedAddress);
  return { header: 'X-Forwarded-For', chain: chain.every((a): a is string => a !== null) ? chain : null };
}

export class SourcePolicy {
  private constructor(
    private readonly allow: BlockList | null,
    private readonly trusted: BlockList | null,
    private readonly header: ForwardedHeader,
  ) {}

  /** Null: neither list is set, and no address decides anything here. */
  static compile(allowCidrs: readonly string[], trustedProxies: readonly string[], header: ForwardedHeader = 'x-forwarded-for'): SourcePolicy | { field: string; value: string } | null {
    if (allowCidrs.length === 0 && trustedProxies.length === 0) return null;
    const allow = compileCidrs(allowCidrs);
    if (allow.bad !== null) return { field: `control.allow_cidrs.${allow.bad}`, value: allowCidrs[allow.bad]! };
    const trusted = compileCidrs(trustedProxies);
    if (trusted.bad !== null) return { field: `control.trusted_proxies.${trusted.bad}`, value: trustedProxies[trusted.bad]! };
    return new SourcePolicy(allowCidrs.length ? allow.blocks : null, trustedProxies.length ? trusted.blocks : null, header);
  }

  judge(peer: string, headers: Record<string, string | string[] | undefined>): SourceJudgement {
    const from = canonicalAddress(peer);
    let address = from;
    const trustedPeer = this.trusted !== null && contains(this.trusted, from);
    // From anyone but a trusted proxy, either header is refused: it could name any address.
    if (!trustedPeer && (headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined)) {
      const header = headers.forwarded !== undefined ? 'Forwarded' : 'X-Forwarded-For';
      return { ok: false, address: from, code: 'ALT_FORWARDED_UNTRUSTED', message: `${header} from ${from}, which is not a trusted proxy (control.trusted_proxies): the header is not believed, so the request is refused` };
    }
    const forwarded = forwardedChain(headers, this.header);
    if (forwarded && this.trusted) {
      if (!forwarded.chain || forwarded.chain.length === 0) return { ok: false, address: from, code: 'ALT_FORWARDED_INVALID', message: `${forwarded.header} from the proxy ${from} names an address that cannot be read` };
      // The nearest address no trusted proxy accounts for: anything to its left was written by the client itself.
      address = forwarded.chain[0]!;
      for (let i = forwarded.chain.length - 1; i >= 0; i--) {
        if (!contains(this.trusted, forwarded.chain[i]!)) {
          address = forwarded.chain[i]!;
          break;
        }
      }
    }
    if (this.allow && !contains(this.allow, address)) return { ok: false, address, code: 'ALT_SOURCE_DENIED', message: `the control API does not accept requests from ${address} (control.allow_cidrs)` };
    return { ok: true, address };
  }
}

/** The configuration's lists, compiled (loadConfig refused any that is not a CIDR). */
export function controlSources(config: { control: { allow_cidrs: string[]; trusted_proxies: string[]; forwarded_header: ForwardedHeader } }): SourcePolicy | null {
  const compiled = SourcePolicy.compile(config.control.allow_cidrs, config.control.trusted_proxies, config.control.forwarded_header);
  if (compiled && 'field' in compiled) throw new Error(`${compiled.field} is not a CIDR`);
  return compiled;
}
