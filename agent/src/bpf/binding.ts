// The BPF half of the native addon (native/src/bpf*.cc), typed. Arguments reach it validated
// and encoded by enforcer.ts; it throws BpfError, which it is handed here once per thread.
import { native } from '../native.js';
import { BpfError } from './errors.js';
import { checkLayout } from './layout.js';

export interface NativeBpfObject {
  close(): void;
  programs(): { name: string; section: string; id: number }[];
  attachCgroup(program: string, cgroupFd: number): number;
  detach(linkId: number): boolean;
  pinLink(linkId: number, path: string): void;
  mapUpdate(map: string, key: Buffer, value: Buffer, flags: number): void;
  mapLookup(map: string, key: Buffer): Buffer | null;
  mapDelete(map: string, key: Buffer): boolean;
  pinMaps(dir: string): void;
  unpinMaps(dir: string): void;
  startEvents(onBatch: (records: Buffer) => void): void;
  stopEvents(): void;
  refEvents(ref: boolean): void;
  eventsLost(): number;
  destroyKilled(netnsPath: string): Promise<Buffer>;
  attachTcx(program: string, ifindex: number): number;
  mapKeys(map: string): Buffer[];
  startDns(onBatch: (records: Buffer) => void): void;
  stopDns(): void;
  testRun(program: string, packet: Buffer, repeat: number, ifindex: number): { retval: number; durationNs: number };
}

interface NativeBpf {
  bpfSupported: boolean;
  bpfUnsupportedReason?: string;
  bpfSetErrorClass(errorClass: typeof BpfError): void;
  bpfLayout(): unknown;
  bpfNetnsCookie(netnsPath: string | null): bigint;
  BpfObject: new (pinDir: string | null) => NativeBpfObject;
}

let checked: NativeBpf | null = null;

/** Why this addon cannot do BPF, or null when it can. Throws NativeError when it is not built. */
export function bpfUnsupportedReason(): string | null {
  const b = native() as unknown as Partial<NativeBpf>;
  if (b.bpfSupported) return null;
  return b.bpfUnsupportedReason ?? 'the native addon predates BPF support; rebuild it (npm ci)';
}

/** The addon's BPF functions, with the error class registered and the struct layouts checked. */
export function bpfBinding(): NativeBpf {
  if (checked) return checked;
  const reason = bpfUnsupportedReason();
  if (reason !== null) throw new BpfError('ALT_BPF_UNAVAILABLE', reason);
  const b = native() as unknown as NativeBpf;
  b.bpfSetErrorClass(BpfError);
  checkLayout(b.bpfLayout());
  checked = b;
  return b;
}
