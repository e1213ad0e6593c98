// The TypeScript face of node enforcement: loads the BPF programs, attaches them to cgroups and
// drives their maps. Every argument is validated here, naming the option at fault, and encoded
// to the structs of bpf/altrace.h before the addon sees it.
import { closeSync, constants, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { addressBytes, isLoopback, isUnspecified, isV4Mapped } from './address.js';
import { bpfBinding, type NativeBpfObject } from './binding.js';
import { BpfError, invalid } from './errors.js';
import {
  ALLOW_PORTS, decodeAllow, decodeConfig, decodeDnsEvents, decodeEgressKey, decodeEvents, decodeNetKey, decodeOrigin, decodeStats, DEST_SOURCES, encodeAllow, encodeConfig, encodeEndpoint,
  encodeEgressKey, encodeExemptKey, encodeNetKey, encodeU32, encodeU64, EXEMPT_CGROUP, EXEMPT_NETNS, IFACE_BACKSTOP, IFACE_STRICT,
  type BpfEvent, type BpfStats, type DestinationSource, type DnsAnswerRecord, type Endpoint, type OriginalDestination, type ProxyConfig,
} from './layout.js';
import { formatNet } from './address.js';
import { available } from './system.js';
import { checkAddress, checkId, checkNet, checkPath, checkPort, endpoint } from './validate.js';

const CGROUP_PROGRAMS = [
  'alt_connect4', 'alt_connect6', 'alt_getpeer4', 'alt_getpeer6', 'alt_sendmsg4', 'alt_sendmsg6', 'alt_sockops', 'alt_skb_egress', 'alt_dns_ingress',
] as const;
const BACKSTOP_PROGRAM = 'alt_backstop';
const ZERO_KEY = encodeU32(0);
const PRESENT = encodeU32(1);
const KILL_ALL = 0n;

/** An egress set is named by a number from 1 (0 means unconfined in the kernel's maps). */
function checkEgressSet(set: unknown): number {
  if (!Number.isInteger(set) || (set as number) < 1 || (set as number) > 0xffffffff) throw invalid('set', `must be an integer from 1 to 4294967295, got ${String(set)}`);
  return set as number;
}

export type KillTarget = 'global' | bigint;
export type ExemptTarget = { cgroupId: bigint } | { netnsCookie: bigint };

export interface CgroupAttachment {
  readonly path: string;
  detach(): void;
}

export interface EventSubscription {
  stop(): void;
}

export class BpfEnforcer {
  readonly #obj: NativeBpfObject;
  readonly #attached = new Map<string, number[]>();
  readonly #ifaceLinks = new Map<number, number>();
  readonly #listeners = new Map<symbol, { onEvent: (e: BpfEvent) => void; keepAlive: boolean }>();
  readonly #pinDir: string | null;
  #closed = false;

  private constructor(obj: NativeBpfObject, pinDir: string | null) {
    this.#obj = obj;
    this.#pinDir = pinDir;
  }

  /** Loads and verifies the programs. With pinDir (a bpffs directory) the maps are pinned
   *  there, and maps already pinned there are reused: kill state survives an agent restart. */
  static load(options: { pinDir?: string } = {}): BpfEnforcer {
    const pinDir = options.pinDir === undefined ? null : checkPath('pinDir', options.pinDir);
    const why = available();
    if (!why.ok) throw new BpfError('ALT_BPF_UNAVAILABLE', `BPF enforcement is unavailable: ${why.reason}`);
    const binding = bpfBinding();
    return new BpfEnforcer(new binding.BpfObject(pinDir), pinDir);
  }

  /** The cookie BPF sees for sockets of a network namespace (default: this process's). */
  static netnsCookie(netnsPath?: string): bigint {
    return bpfBinding().bpfNetnsCookie(netnsPath === undefined ? null : checkPath('netnsPath', netnsPath));
  }

  programs(): { name: string; section: string; id: number }[] {
    return this.#obj.programs();
  }

  /** Attaches every cgroup program (connect, getpeername, sendmsg, sockops) to a cgroup v2
   *  directory; they govern its processes and those of every cgroup below it. Loaded with a
   *  pinDir, the links are pinned there too, so the attachment outlives this process (a crash or
   *  restart never leaves the cgroup ungoverned); links an earlier agent pinned for the same
   *  cgroup are replaced only after the new ones are attached, so there is no gap. */
  attachCgroup(path: string): CgroupAttachment {
    checkPath('path', path);
    if (!this.#attached.has(path)) {
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
      } catch (err) {
        throw new BpfError('ALT_BPF_ATTACH', `cannot open the cgroup ${path}: ${(err as Error).message}`, 'path');
      }
      const links: number[] = [];
      try {
        for (const prog of CGROUP_PROGRAMS) links.push(this.#obj.attachCgroup(prog, fd));
        if (this.#pinDir !== null) this.#pinLinks(path, links);
      } catch (err) {
        for (const id of links) this.#obj.detach(id);
        throw err;
      } finally {
        closeSync(fd);
      }
      this.#attached.set(path, links);
    }
    return { path, detach: () => void this.detachCgroup(path) };
  }

  /** Detaches, pinned links included: the cgroup is no longer governed. */
  detachCgroup(path: string): boolean {
    const links = this.#attached.get(path);
    if (this.#pinDir !== null) for (const pin of this.#linkPins(path)) rmSync(pin, { force: true });
    if (!links) return false;
    for (const id of links) this.#obj.detach(id);
    this.#attached.delete(path);
    return true;
  }

  #linkPins(path: string): string[] {
    const id = statSync(path, { bigint: true }).ino;
    return CGROUP_PROGRAMS.map((prog) => join(this.#pinDir!, `link-cg${id}-${prog}`));
  }

  #pinLinks(path: string, links: number[]): void {
    this.#linkPins(path).forEach((pin, i) => {
      // Removing the old pin releases the old link: the new one is already attached.
      rmSync(pin, { force: true });
      this.#obj.pinLink(links[i]!, pin);
    });
  }

  /** Where AI-bound connections go: an address the pods can reach, one per family. Loopback
   *  never is (it would be the pod's own), so it is refused unless allowLoopback (tests). */
  setProxyAddress(proxy: Endpoint, options: { allowLoopback?: boolean } = {}): void {
    const ep = endpoint('proxy', proxy);
    if (isUnspecified(ep.address)) throw invalid('proxy.address', `must be a concrete address, got ${ep.address}`);
    if (isLoopback(ep.address) && options.allowLoopback !== true) throw invalid('proxy.address', `must be reachable from the pods' network namespaces, not loopback ${ep.address}`);
    const cfg = this.proxyAddress();
    if (isV4Mapped(addressBytes(ep.address))) cfg.v4 = ep;
    else cfg.v6 = ep;
    this.#obj.mapUpdate('alt_config', ZERO_KEY, encodeConfig(cfg), 0);
  }

  /** Forgets a family's proxy address: AI-bound connects of that family then fail (EPERM). */
  clearProxyAddress(family: 4 | 6): void {
    if (family !== 4 && family !== 6) throw invalid('family', `must be 4 or 6, got ${String(family)}`);
    const cfg = this.proxyAddress();
    if (family === 4) cfg.v4 = null;
    else cfg.v6 = null;
    this.#obj.mapUpdate('alt_config', ZERO_KEY, encodeConfig(cfg), 0);
  }

  proxyAddress(): ProxyConfig {
    return decodeConfig(this.#obj.mapLookup('alt_config', ZERO_KEY)!);
  }

  /** Adds an address or CIDR to the AI destination set: every port of it, TCP and UDP. */
  addDestination(net: string, source: DestinationSource = 'configured'): void {
    if (!(source in DEST_SOURCES)) throw invalid('source', `must be one of ${Object.keys(DEST_SOURCES).join(', ')}, got ${String(source)}`);
    this.#obj.mapUpdate('alt_dest_nets', encodeNetKey(checkNet('net', net)), encodeU32(DEST_SOURCES[source]), 0);
  }

  removeDestination(net: string): boolean {
    return this.#obj.mapDelete('alt_dest_nets', encodeNetKey(checkNet('net', net)));
  }

  /** Whether an address falls in the destination set (longest-prefix match, as the kernel does). */
  coversDestination(address: string): boolean {
    return this.#obj.mapLookup('alt_dest_nets', encodeNetKey({ address: checkAddress('address', address), prefixLength: 128 })) !== null;
  }

  /** The nets in the destination set, as the kernel holds them (a restarted agent's view). */
  destinationNets(): string[] {
    return this.#obj.mapKeys('alt_dest_nets').map((k) => formatNet(decodeNetKey(k)));
  }

  /** Strict mode: a place strict cgroups and interfaces may reach (an address or CIDR, on these
   *  ports or, with none, any). */
  allow(net: string, ports: readonly number[] = []): void {
    if (!Array.isArray(ports) || ports.length > ALLOW_PORTS) throw invalid('ports', `must be an array of at most ${ALLOW_PORTS} ports`);
    ports.forEach((p, i) => checkPort(`ports[${i}]`, p));
    this.#obj.mapUpdate('alt_allow_nets', encodeNetKey(checkNet('net', net)), encodeAllow(ports), 0);
  }

  disallow(net: string): boolean {
    return this.#obj.mapDelete('alt_allow_nets', encodeNetKey(checkNet('net', net)));
  }

  /** Opt-in mode (Kubernetes labels): cgroups and pod addresses marked ungoverned are left alone. */
  setOptIn(on: boolean): void {
    const cfg = this.proxyAddress();
    cfg.optIn = on === true;
    this.#obj.mapUpdate('alt_config', ZERO_KEY, encodeConfig(cfg), 0);
  }

  /** A pod that has not opted in: its cgroup (and those below it) left alone in opt-in mode. */
  setUngoverned(cgroupId: bigint, ungoverned: boolean): void {
    const key = encodeU64(checkId('cgroupId', cgroupId));
    if (ungoverned) this.#obj.mapUpdate('alt_ungoverned', key, PRESENT, 0);
    else this.#obj.mapDelete('alt_ungoverned', key);
  }

  /** While set, a socket-destroy pass also ends this cgroup's (and those below it) direct AI
   *  connections ('direct': it came under governance) or redirected ones ('redirected': it left). */
  setRegoverned(cgroupId: bigint, ends: 'direct' | 'redirected' | null): void {
    const key = encodeU64(checkId('cgroupId', cgroupId));
    if (ends === null) this.#obj.mapDelete('alt_regoverned', key);
    else this.#obj.mapUpdate('alt_regoverned', key, encodeU32(ends === 'direct' ? 1 : 2), 0);
  }

  ungovernedCgroups(): bigint[] {
    return this.#obj.mapKeys('alt_ungoverned').map((k) => k.readBigUInt64LE(0));
  }

  /** A pod that has not opted in: packets from its address pass the packet backstop in opt-in mode. */
  setUngovernedAddress(address: string, ungoverned: boolean): void {
    const key = encodeNetKey({ address: checkAddress('address', address), prefixLength: 128 });
    if (ungoverned) this.#obj.mapUpdate('alt_ungoverned_addrs', key, PRESENT, 0);
    else this.#obj.mapDelete('alt_ungoverned_addrs', key);
  }

  ungovernedAddresses(): string[] {
    return this.#obj.mapKeys('alt_ungoverned_addrs').map((k) => decodeNetKey(k).address);
  }

  /** The nets strict mode allows, as the kernel holds them (a restarted agent's view). */
  allowedNets(): string[] {
    return this.#obj.mapKeys('alt_allow_nets').map((k) => formatNet(decodeNetKey(k)));
  }

  /** The strict cgroups, as the kernel holds them. */
  strictCgroups(): bigint[] {
    return this.#obj.mapKeys('alt_strict').map((k) => k.readBigUInt64LE(0));
  }

  /** Puts a cgroup (and every cgroup below it) in strict mode, or takes it out. */
  setStrict(cgroupId: bigint, strict: boolean): void {
    const key = encodeU64(checkId('cgroupId', cgroupId));
    if (strict) this.#obj.mapUpdate('alt_strict', key, PRESENT, 0);
    else this.#obj.mapDelete('alt_strict', key);
  }

  /** Confinement: the processes of a cgroup (and every cgroup below it) connect and send only
   *  where egress set `set` allows (allowEgress), loopback included; null lifts it. */
  confine(cgroupId: bigint, set: number | null): void {
    const key = encodeU64(checkId('cgroupId', cgroupId));
    if (set === null) this.#obj.mapDelete('alt_confined', key);
    else this.#obj.mapUpdate('alt_confined', key, encodeU32(checkEgressSet(set)), 0);
  }

  /** The confined cgroups and their egress sets, as the kernel holds them. */
  confinedCgroups(): { cgroupId: bigint; set: number }[] {
    return this.#obj.mapKeys('alt_confined').map((k) => ({ cgroupId: k.readBigUInt64LE(0), set: this.#obj.mapLookup('alt_confined', k)!.readUInt32LE(0) }));
  }

  /** Egress set `set` admits an address or CIDR, on these ports or, with none, any. */
  allowEgress(set: number, net: string, ports: readonly number[] = []): void {
    if (!Array.isArray(ports) || ports.length > ALLOW_PORTS) throw invalid('ports', `must be an array of at most ${ALLOW_PORTS} ports`);
    ports.forEach((p, i) => checkPort(`ports[${i}]`, p));
    this.#obj.mapUpdate('alt_egress_nets', encodeEgressKey(checkEgressSet(set), checkNet('net', net)), encodeAllow(ports), 0);
  }

  disallowEgress(set: number, net: string): boolean {
    return this.#obj.mapDelete('alt_egress_nets', encodeEgressKey(checkEgressSet(set), checkNet('net', net)));
  }

  /** Every egress set's nets and their ports (none: any), as the kernel holds them. */
  egressNets(): { set: number; net: string; ports: number[] }[] {
    return this.#obj.mapKeys('alt_egress_nets').map((k) => {
      const { set, net } = decodeEgressKey(k);
      const value = this.#obj.mapLookup('alt_egress_nets', k);
      return { set, net: formatNet(net), ports: value ? decodeAllow(value) : [] };
    });
  }

  /** The packet backstop on a host-side interface (a pod's veth): packets arriving from the pod
   *  to AI destinations are dropped, and with strict, new flows to undeclared places. Pinned
   *  like the cgroup links when loaded with a pinDir. */
  watchInterface(ifindex: number, options: { strict?: boolean } = {}): { detach(): void } {
    if (!Number.isInteger(ifindex) || ifindex <= 0) throw invalid('ifindex', `must be a positive interface index, got ${String(ifindex)}`);
    const flags = IFACE_BACKSTOP | (options.strict === true ? IFACE_STRICT : 0);
    this.#obj.mapUpdate('alt_ifaces', encodeU32(ifindex), encodeU32(flags), 0);
    let link = this.#ifaceLinks.get(ifindex);
    if (link === undefined) {
      try {
        link = this.#obj.attachTcx(BACKSTOP_PROGRAM, ifindex);
        if (this.#pinDir !== null) {
          const pin = join(this.#pinDir, `link-if${ifindex}-${BACKSTOP_PROGRAM}`);
          rmSync(pin, { force: true });
          this.#obj.pinLink(link, pin);
        }
      } catch (err) {
        if (link !== undefined) this.#obj.detach(link);
        this.#obj.mapDelete('alt_ifaces', encodeU32(ifindex));
        throw err;
      }
      this.#ifaceLinks.set(ifindex, link);
    }
    return { detach: () => void this.unwatchInterface(ifindex) };
  }

  unwatchInterface(ifindex: number): boolean {
    const link = this.#ifaceLinks.get(ifindex);
    this.#obj.mapDelete('alt_ifaces', encodeU32(ifindex));
    if (this.#pinDir !== null) rmSync(join(this.#pinDir, `link-if${ifindex}-${BACKSTOP_PROGRAM}`), { force: true });
    if (link === undefined) return false;
    this.#obj.detach(link);
    this.#ifaceLinks.delete(ifindex);
    return true;
  }

  /** The interfaces the backstop watches, and which are strict. */
  watchedInterfaces(): { ifindex: number; strict: boolean }[] {
    return this.#obj.mapKeys('alt_ifaces').map((k) => {
      const ifindex = k.readUInt32LE(0);
      const flags = this.#obj.mapLookup('alt_ifaces', k)?.readUInt32LE(0) ?? 0;
      return { ifindex, strict: (flags & IFACE_STRICT) !== 0 };
    });
  }

  /** DNS responses governed sockets received, from a native thread, until stop(); never keeps
   *  the process alive. */
  dnsAnswers(onAnswer: (a: DnsAnswerRecord) => void): EventSubscription {
    if (typeof onAnswer !== 'function') throw invalid('onAnswer', 'must be a function');
    this.#obj.startDns((records) => {
      for (const a of decodeDnsEvents(records)) onAnswer(a);
    });
    return { stop: () => void (this.#closed || this.#obj.stopDns()) };
  }

  /** The kernel's own timing of one program on one packet (BPF_PROG_TEST_RUN), per run, as if
   *  it arrived on ifindex (0: loopback). */
  testRun(program: string, packet: Buffer, repeat: number, ifindex = 0): { retval: number; durationNs: number } {
    if (!Buffer.isBuffer(packet) || packet.length < 14) throw invalid('packet', 'must be a Buffer holding at least an Ethernet header');
    if (!Number.isInteger(repeat) || repeat < 1) throw invalid('repeat', `must be a positive integer, got ${String(repeat)}`);
    if (!Number.isInteger(ifindex) || ifindex < 0) throw invalid('ifindex', `must be an interface index, got ${String(ifindex)}`);
    return this.#obj.testRun(program, packet, repeat, ifindex);
  }

  /** Makes AI-bound connects of a cgroup (and every cgroup below it), or of all, fail at once. */
  kill(target: KillTarget): void {
    this.#obj.mapUpdate('alt_deny', this.#killKey(target), PRESENT, 0);
  }

  unkill(target: KillTarget): boolean {
    return this.#obj.mapDelete('alt_deny', this.#killKey(target));
  }

  isKilled(target: KillTarget): boolean {
    return this.#obj.mapLookup('alt_deny', this.#killKey(target)) !== null;
  }

  /** What the deny map holds: after a restart with a pinDir, the kills an earlier agent made. */
  killed(): KillTarget[] {
    return this.#obj.mapKeys('alt_deny').map((k) => {
      const id = k.readBigUInt64LE(0);
      return id === KILL_ALL ? 'global' : id;
    });
  }

  #killKey(target: KillTarget): Buffer {
    return encodeU64(target === 'global' ? KILL_ALL : checkId('target', target));
  }

  /** Lets a cgroup (and those below it) or a network namespace reach AI destinations
   *  directly: the proxy's own upstream connections. A kill still applies. */
  exempt(target: ExemptTarget): void {
    this.#obj.mapUpdate('alt_exempt', this.#exemptKey(target), PRESENT, 0);
  }

  unexempt(target: ExemptTarget): boolean {
    return this.#obj.mapDelete('alt_exempt', this.#exemptKey(target));
  }

  #exemptKey(target: ExemptTarget): Buffer {
    if (typeof target !== 'object' || target === null) throw invalid('target', 'must be { cgroupId } or { netnsCookie }');
    if ('cgroupId' in target) return encodeExemptKey(EXEMPT_CGROUP, checkId('target.cgroupId', target.cgroupId));
    if ('netnsCookie' in target) return encodeExemptKey(EXEMPT_NETNS, checkId('target.netnsCookie', target.netnsCookie));
    throw invalid('target', 'must be { cgroupId } or { netnsCookie }');
  }

  /** The destination a redirected connection asked for, by the peer address the proxy sees
   *  on the connection it accepted; null when that connection was not redirected. */
  originalDestination(peer: Endpoint): OriginalDestination | null {
    const found = this.#obj.mapLookup('alt_flows', encodeEndpoint(endpoint('peer', peer)));
    return found === null ? null : decodeOrigin(found);
  }

  /** Delivers ring-buffer events (from a native thread) until stop(). keepAlive: false lets
   *  the process exit while subscribed (the poller holds the event loop only while some
   *  subscription keeps it alive). */
  events(onEvent: (e: BpfEvent) => void, options: { keepAlive?: boolean } = {}): EventSubscription {
    if (typeof onEvent !== 'function') throw invalid('onEvent', 'must be a function');
    const id = Symbol('subscription');
    if (this.#listeners.size === 0) this.#obj.startEvents((records) => this.#deliver(records));
    this.#listeners.set(id, { onEvent, keepAlive: options.keepAlive !== false });
    this.#refEvents();
    return {
      stop: () => {
        if (!this.#listeners.delete(id) || this.#closed) return;
        if (this.#listeners.size === 0) this.#obj.stopEvents();
        else this.#refEvents();
      },
    };
  }

  #refEvents(): void {
    this.#obj.refEvents([...this.#listeners.values()].some((l) => l.keepAlive));
  }

  #deliver(records: Buffer): void {
    const events = decodeEvents(records);
    // A batch queued before stop() still arrives after it: it goes to whoever is listening now.
    for (const listener of [...this.#listeners.values()]) for (const e of events) listener.onEvent(e);
  }

  /** Destroys the established AI-bound TCP sockets of killed cgroups in one network namespace
   *  (/proc/<pid>/ns/net of a pod's process, or /proc/self/fd/<n> for an open namespace fd);
   *  their owners see ECONNABORTED. A bad argument throws at once; a failed pass rejects. */
  destroyKilledSockets(netnsPath: string): Promise<{ destroyed: number; cookies: bigint[] }> {
    return this.#obj.destroyKilled(checkPath('netnsPath', netnsPath)).then((raw) => {
      const cookies = Array.from({ length: raw.length / 8 }, (_, i) => raw.readBigUInt64LE(i * 8));
      return { destroyed: cookies.length, cookies };
    });
  }

  stats(): BpfStats & { eventsLost: number } {
    return { ...decodeStats(this.#obj.mapLookup('alt_counters', ZERO_KEY)!), eventsLost: this.#obj.eventsLost() };
  }

  /** Pins every map under dir (a bpffs directory). Maps loaded with pinDir stay tied to it. */
  pinMaps(dir: string): void {
    checkPath('dir', dir);
    if (this.#pinDir !== null && dir !== this.#pinDir) throw invalid('dir', `must be ${this.#pinDir}, where these maps were loaded pinned, got ${dir}`);
    this.#obj.pinMaps(dir);
  }

  unpinMaps(dir: string): void {
    this.#obj.unpinMaps(checkPath('dir', dir));
  }

  /** Detaches everything, stops events and frees the programs and maps (pinned maps stay
   *  pinned). Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#attached.clear();
    this.#ifaceLinks.clear();
    this.#obj.close();
  }
}
