// What the agent uses of the data plane.
export { Chain, type ChainOptions } from './chain/chain.js';
export { declaredStages, type StageDeps } from './chain/stages/index.js';
export { reasons, reasonCodes, type ReasonCode } from './chain/reasons.js';
export type { StageDescription } from './chain/stage.js';
export { KillSwitches, KILL_SCOPES, GLOBAL_TARGET, type KillScope, type KillSwitch } from './enforcement/kill-switches.js';
export { KeyRegistry, generateKeySecret, hashKey, displayPrefix, type VirtualKey } from './identity/keys.js';
export { PolicyHolder, compilePolicy, type Policy, type PolicyDocument } from './policy/policy.js';
export { ScanPool } from './scan/pool.js';
export { ProxyMetrics } from './metrics.js';
export { createLogger, type Logger } from './log.js';
export { GovernedProxy, type ProxyOptions } from './proxy.js';
export { listenExplicit, type ExplicitListener } from './listen/http.js';
export { buildAdapters } from './providers/index.js';
export type { Credential, CredentialSource } from './upstream/credential.js';
export type { Upstream } from './upstream/upstreams.js';
