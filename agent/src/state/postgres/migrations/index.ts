// Every migration, in order. Add the next one as NNN-what.ts and list it here.
import type { Migration } from './migration.js';
import { migration as m001 } from './001-initial.js';
import { migration as m002 } from './002-fleet-identity.js';
import { migration as m003 } from './003-budget-leases.js';
import { migration as m004 } from './004-fleet-audit.js';
import { migration as m005 } from './005-node-reports.js';
import { migration as m006 } from './006-fleet-audit-log.js';
import { migration as m007 } from './007-mcp-pins.js';
import { migration as m008 } from './008-token-roles.js';
import { migration as m009 } from './009-auth-failures.js';
import { migration as m010 } from './010-operator-certificates.js';
import { migration as m011 } from './011-lockout-strikes.js';
import { migration as m012 } from './012-token-tombstones.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011, m012];
