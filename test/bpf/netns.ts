// A small network of the test's own: an "agent pod" namespace and a "provider" namespace, each
// joined to the node (the root namespace, where the agent runs) by a veth pair. Only addresses
// inside these namespaces are used, and everything is removed by the cleanup stack.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from './rig.js';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Link {
  netns: string;
  /** The node's side of the veth pair: its address and interface name. */
  nodeAddress: string;
  nodeInterface: string;
  /** The namespace's side. */
  address: string;
  nsInterface: string;
  /** The node's side's MAC: where a frame built by hand must go to be routed. */
  nodeMac: string;
}

/** Forwarding for packets arriving on one interface (IPv4 decides by the ingress device).
 *  Never the global net.ipv4.ip_forward: writing it rewrites every interface's setting, so a
 *  rig that restored it when it finished switched forwarding off under a rig still running
 *  (the regression: "nftables: UDP to the provider on 443 fails in the pod" and "nftables: a
 *  kill ..." failed whenever the bpf rig finished first, their packets never reaching the
 *  forward hook). The interface dies with its namespace, so nothing is left to restore. */
function forwardOn(iface: string): void {
  writeFileSync(`/proc/sys/net/ipv4/conf/${iface}/forwarding`, '1');
}

/**
 * A 10.<subnet>.0.0/16 of this rig's own. Rigs run in parallel test processes: each claims its
 * subnet with a lock file made exclusively (a random pick alone collided once in three runs of
 * the seven rigs), taking over a claim whose process has gone.
 */
function claimSubnet(cleanup: Cleanup): number {
  const first = Math.floor(Math.random() * 50);
  for (let i = 0; i < 50; i++) {
    const subnet = 200 + ((first + i) % 50);
    const lock = join(tmpdir(), `altrace-netrig-10.${subnet}.lock`);
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      const owner = Number(readFileSync(lock, 'utf8'));
      if (owner > 0 && existsSync(`/proc/${owner}`)) continue;
      writeFileSync(lock, String(process.pid));
    }
    cleanup.add(() => rmSync(lock, { force: true }));
    return subnet;
  }
  throw new Error('every 10.200-249 subnet is claimed by a running rig');
}

export class NetRig {
  readonly #suffix = Math.random().toString(36).slice(2, 6);
  readonly #subnet: number;

  private constructor(private readonly cleanup: Cleanup) {
    this.#subnet = claimSubnet(cleanup);
  }

  static create(cleanup: Cleanup): NetRig {
    return new NetRig(cleanup);
  }

  /** A namespace joined to the node by a veth pair on 10.<subnet>.<index>.0/24. */
  namespace(name: string, index: number): Link {
    const netns = `alt-${name}-${this.#suffix}`;
    const nodeIf = `a${name.slice(0, 3)}${this.#suffix}n`;
    const nsIf = `a${name.slice(0, 3)}${this.#suffix}p`;
    const net = `10.${this.#subnet}.${index}`;
    ip('netns', 'add', netns);
    // Deleting the namespace deletes its end of the pair, and with it the node's end.
    this.cleanup.add(() => ip('netns', 'delete', netns));
    ip('link', 'add', nodeIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', netns);
    ip('addr', 'add', `${net}.1/24`, 'dev', nodeIf);
    ip('link', 'set', nodeIf, 'up');
    // Forwarding on the node: without the programs, the pod could reach the provider directly.
    forwardOn(nodeIf);
    ip('-n', netns, 'addr', 'add', `${net}.2/24`, 'dev', nsIf);
    ip('-n', netns, 'link', 'set', nsIf, 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    ip('-n', netns, 'route', 'add', 'default', 'via', `${net}.1`);
    return { netns, nodeAddress: `${net}.1`, nodeInterface: nodeIf, address: `${net}.2`, nsInterface: nsIf, nodeMac: readFileSync(`/sys/class/net/${nodeIf}/address`, 'utf8').trim() };
  }

  /**
   * IPv6 on a link, without forwarding (the node's IPv6 forwarding is global, not a rig's to
   * change): the node's side gets fd00:<subnet>:<index>::1, the namespace's ::2 and a default
   * route to it, and the node's side a second address, ::3. What the namespace reaches over
   * IPv6 is the node's side itself.
   */
  ipv6(link: Link): { nodeAddress: string; otherNodeAddress: string; address: string } {
    const index = /\.(\d+)\.1$/.exec(link.nodeAddress)![1];
    const prefix = `fd00:${this.#subnet}:${index}`;
    ip('-6', 'addr', 'add', `${prefix}::1/64`, 'dev', link.nodeInterface, 'nodad');
    ip('-n', link.netns, '-6', 'addr', 'add', `${prefix}::2/64`, 'dev', link.nsInterface, 'nodad');
    ip('-6', 'addr', 'add', `${prefix}::3/64`, 'dev', link.nodeInterface, 'nodad');
    ip('-n', link.netns, '-6', 'route', 'add', 'default', 'via', `${prefix}::1`);
    return { nodeAddress: `${prefix}::1`, otherNodeAddress: `${prefix}::3`, address: `${prefix}::2` };
  }

  /** Another address on a namespace's side of its link (a provider serving from several). */
  addAddress(link: Link, host: number): string {
    const address = link.address.replace(/\.2$/, `.${host}`);
    ip('-n', link.netns, 'addr', 'add', `${address}/24`, 'dev', link.nsInterface);
    return address;
  }
}
