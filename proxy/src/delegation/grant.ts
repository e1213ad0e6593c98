// What a delegation link grants, and when a link widens what its parent granted.
// docs/delegation.md is the normative description; keep the two in step.

export const DATA_CLASSES = ['public', 'confidential', 'restricted'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

/** The dimensions a link may restrict. Absent: as the parent (unrestricted at the root). */
export interface Grant {
  budget_usd?: number;
  models?: string[];
  tools?: string[];
  data_ceiling?: DataClass;
  rate?: { requests: number; per_s: number };
  regions?: string[];
}

export const GRANT_DIMENSIONS = ['budget_usd', 'models', 'tools', 'data_ceiling', 'rate', 'regions'] as const;
export type GrantDimension = (typeof GRANT_DIMENSIONS)[number];

function globMatches(glob: string, literal: string): boolean {
  // `*` matches any run of characters (a `*` in the literal included); nothing else is special.
  const parts = glob.split('*');
  if (parts.length === 1) return glob === literal;
  if (!literal.startsWith(parts[0]!) || !literal.endsWith(parts.at(-1)!)) return false;
  let at = parts[0]!.length;
  const end = literal.length - parts.at(-1)!.length;
  if (end < at) return false;
  for (const part of parts.slice(1, -1)) {
    const i = literal.indexOf(part, at);
    if (i < 0 || i + part.length > end) return false;
    at = i + part.length;
  }
  return true;
}

/**
 * Whether every name the child pattern admits is admitted by some parent pattern. Sound for
 * `*` globs: if a parent glob matches the child pattern read literally, each of the child's
 * `*` is absorbed by one of the parent's, so whatever the child's `*` expands to is too.
 */
export function covered(parent: readonly string[], child: string): boolean {
  return parent.some((p) => globMatches(p, child));
}

export function classRank(c: DataClass): number {
  return DATA_CLASSES.indexOf(c);
}

/**
 * The first way `child` widens `parent` (the effective grant above it), as a message naming
 * the dimension; null when the child attenuates or keeps every dimension.
 */
export function widening(parent: Grant, child: Grant): { dimension: GrantDimension; message: string } | null {
  if (child.budget_usd !== undefined && parent.budget_usd !== undefined && child.budget_usd > parent.budget_usd) {
    return { dimension: 'budget_usd', message: `budget_usd ${child.budget_usd} exceeds the parent's ${parent.budget_usd}` };
  }
  for (const dim of ['models', 'tools', 'regions'] as const) {
    const p = parent[dim];
    const c = child[dim];
    if (!p || !c) continue;
    const extra = c.find((x) => !covered(p, x));
    if (extra !== undefined) return { dimension: dim, message: `${dim} "${extra}" is not within the parent's [${p.join(', ')}]` };
  }
  if (child.data_ceiling !== undefined && parent.data_ceiling !== undefined && classRank(child.data_ceiling) > classRank(parent.data_ceiling)) {
    return { dimension: 'data_ceiling', message: `data_ceiling ${child.data_ceiling} is above the parent's ${parent.data_ceiling}` };
  }
  if (child.rate && parent.rate) {
    const c = child.rate;
    const p = parent.rate;
    if (c.requests > p.requests || c.requests / c.per_s > p.requests / p.per_s) {
      return { dimension: 'rate', message: `rate ${c.requests}/${c.per_s}s exceeds the parent's ${p.requests}/${p.per_s}s` };
    }
  }
  return null;
}

/** The grant in force below a link: each dimension from the nearest link that restricts it. */
export function narrowed(parent: Grant, child: Grant): Grant {
  const out: Grant = { ...parent };
  for (const d of GRANT_DIMENSIONS) if (child[d] !== undefined) (out as Record<string, unknown>)[d] = child[d];
  return out;
}
