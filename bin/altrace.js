#!/usr/bin/env node
// The `altrace` CLI: the compiled entry point lives in dist/ (built by `npm ci`).
import { existsSync } from 'node:fs';
const entry = new URL('../dist/agent/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('altrace: not built yet; run `npm ci` (or `npm run build`) in the package first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
