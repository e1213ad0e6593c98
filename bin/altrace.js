#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --enable-experimental-regexp-engine-on-excessive-backtracks
// The `altrace` CLI: the compiled entry point lives in dist/ (built by `npm ci`).
// MALLOC_ARENA_MAX=2 and --max-semi-space-size=8: glibc otherwise keeps an allocation arena
// per thread, and V8 grows the young generation to 64 MB per semi-space
// on a large machine; the proxy's short-lived objects need far less (docs/benchmarks.md).
import { existsSync } from 'node:fs';
const entry = new URL('../dist/agent/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('altrace: not built yet; run `npm ci` (or `npm run build`) in the package first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
