import { readFileSync } from 'node:fs';
import { launchedPackage, type PackageRef } from '../../../proxy/src/index.js';

/** The package the command launches; for a script inside node_modules, at the version installed there. */
export function launchIdentity(command: string, args: readonly string[]): PackageRef | null {
  const p = launchedPackage(command, args);
  if (!p || p.version !== null || p.registryType !== 'npm') return p;
  const script = args.find((a) => !a.startsWith('-') && a.includes('node_modules'));
  const at = script?.replace(/\\/g, '/').lastIndexOf(`node_modules/${p.identifier}/`) ?? -1;
  if (!script || at < 0) return p;
  try {
    const manifest = JSON.parse(readFileSync(`${script.slice(0, at)}node_modules/${p.identifier}/package.json`, 'utf8')) as { name?: unknown; version?: unknown };
    return manifest.name === p.identifier && typeof manifest.version === 'string' ? { ...p, version: manifest.version } : p;
  } catch {
    return p;
  }
}

