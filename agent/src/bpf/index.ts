export { BpfEnforcer, type CgroupAttachment, type EventSubscription, type ExemptTarget, type KillTarget } from './enforcer.js';
export { BpfError, BPF_ERROR_CODES, type BpfErrorCode } from './errors.js';
export { available, cgroup2Mount, cgroupId, type Availability } from './system.js';
export type { BpfEvent, BpfEventKind, BpfStats, Endpoint, OriginalDestination, ProxyConfig } from './layout.js';
