import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

const HELP = `altrace bpf uninstall — remove what node enforcement left pinned on this node

Usage:
  altrace bpf uninstall --pin-dir DIR [--json]

With node.pin_dir the programs stay attached and the maps (kill switches included) stay in
place when the agent stops: an agent that crashes, restarts or is upgraded leaves no gap, and
the next agent takes the pins over. That is why deleting the DaemonSet is not an uninstall: the
pinned programs keep redirecting AI connections to a proxy that is gone, and every AI connect
fails (fail closed). This removes the pinned links (detaching the programs) and maps under DIR.
Run it on each node after the agents are gone, never during an upgrade.
Exit codes: 0 removed, 1 nothing pinned there, 2 usage error.
`;

/** The pins an agent leaves: links first (the programs detach), then the maps. */
function pins(dir: string): string[] {
  const names = readdirSync(dir);
  return [...names.filter((n) => n.startsWith('link-')), ...names.filter((n) => n.startsWith('alt_'))];
}

export async function bpfUninstallCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'pin-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const dir = values['pin-dir'];
  if (!dir) throw new UsageError('bpf uninstall needs --pin-dir DIR (node.pin_dir of the agents, e.g. /sys/fs/bpf/altrace)');
  const found = existsSync(dir) ? pins(dir) : [];
  for (const name of found) rmSync(join(dir, name));
  if (values.json) process.stdout.write(`${JSON.stringify({ pin_dir: dir, removed: found })}\n`);
  else process.stdout.write(found.length > 0 ? `removed ${found.length} pins from ${dir}: ${found.join(' ')}\n` : `nothing pinned at ${dir}\n`);
  return found.length > 0 ? 0 : 1;
}
