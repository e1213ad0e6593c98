// Glob patterns as operators write them in policies and contracts: `*` matches anything.

export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function matchesAny(res: readonly RegExp[], value: string): boolean {
  for (const re of res) if (re.test(value)) return true;
  return false;
}
