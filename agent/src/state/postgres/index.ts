// The PostgreSQL state layer of the control plane (docs/postgres.md).
export { PgStore } from './pg-store.js';
export type { StoreOperations } from './operations.js';
export { CHANGES_CHANNEL, type Change, type ChangeKind } from './changes.js';
export { listenForPayloads, type ChangeListener, type ListenOptions } from './listen.js';
export { migrate, knownVersion, schemaVersion, type MigrationResult } from './migrate.js';
export { MIGRATIONS, type Migration } from './migrations/index.js';
export { openPool, redactUrl, checkDatabaseUrl, type PoolOptions } from './pool.js';
export { DatabaseUnreachableError, DatabaseUrlError, LeaseInvalidError, SchemaTooNewError } from './errors.js';
export { FleetIdentityStore, NodeReportStore, type StoredCa, type NodeRecord, type EnrollmentToken, type SeenAgent, type NodeReport } from './fleet-identity.js';
export { LeaseStore, type Lease, type LeaseWindow, type GrantRequest, type GrantResult, type GrantRefusal, type RenewResult, type ReturnResult, type WindowTotals } from './leases.js';
export { FleetAuditStore, type ShippedBatch, type StoredBatch, type ShippedLog, type FleetLogEntry } from './fleet-audit.js';
