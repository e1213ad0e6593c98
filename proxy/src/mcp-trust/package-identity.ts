// Which package a stdio MCP server's command runs, in the terms of the public MCP registry's
// server.json (`packages[]`: registryType, identifier, version): read from the launcher's
// arguments (npx, bunx, uvx, pipx, docker/podman run) or from a path into node_modules.

export type RegistryType = 'npm' | 'pypi' | 'oci';

export interface PackageRef {
  registryType: RegistryType;
  identifier: string;
  /** Null: the command names no version (it runs whatever is current). */
  version: string | null;
}

interface Launcher {
  registry: RegistryType;
  /** Flags whose value is the package (`npx -p pkg@1 bin`, `uvx --from pkg==1 bin`). */
  packageFlags: ReadonlySet<string>;
  /** Other flags that take a value, skipped over. */
  valueFlags: ReadonlySet<string>;
}

/** Launchers that fetch and run a package. */
export const LAUNCHERS: Readonly<Record<string, Launcher>> = {
  npx: { registry: 'npm', packageFlags: new Set(['-p', '--package']), valueFlags: new Set(['-c', '--call']) },
  bunx: { registry: 'npm', packageFlags: new Set(['-p', '--package']), valueFlags: new Set() },
  uvx: { registry: 'pypi', packageFlags: new Set(['--from']), valueFlags: new Set(['--with', '--python', '-p']) },
  pipx: { registry: 'pypi', packageFlags: new Set(['--spec']), valueFlags: new Set() },
};
const NO_FLAGS: ReadonlySet<string> = new Set();
const CONTAINER_FLAG_VALUE = new Set(['-e', '--env', '-v', '--volume', '--name', '-p', '--publish', '--network', '--net', '-w', '--workdir', '--user', '-u', '--env-file', '--mount', '--entrypoint', '--platform']);

export const launcherName = (command: string): string => command.split(/[\\/]/).pop()!.toLowerCase().replace(/\.(?:cmd|exe)$/, '');

/** The package a launcher runs: a package flag's value, or the first argument that is not a flag (nor a flag's value). */
export function packageSpec(args: readonly string[], valueFlags: ReadonlySet<string>, packageFlags: ReadonlySet<string> = NO_FLAGS): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (packageFlags.has(a)) return args[i + 1] ?? null;
    if (valueFlags.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    // pipx's subcommand comes first: `pipx run NAME`.
    if (a === 'run') continue;
    return a;
  }
  return null;
}

function npmSpec(spec: string): PackageRef {
  const at = spec.lastIndexOf('@');
  return at > 0 ? { registryType: 'npm', identifier: spec.slice(0, at), version: spec.slice(at + 1) || null } : { registryType: 'npm', identifier: spec, version: null };
}

function pypiSpec(spec: string): PackageRef {
  const m = /^([\w.-]+)(?:\[[\w,.-]+\])?(?:(?:==|@)([\w.+-]+))?$/.exec(spec);
  return m ? { registryType: 'pypi', identifier: m[1]!.toLowerCase(), version: m[2] ?? null } : { registryType: 'pypi', identifier: spec, version: null };
}

function imageSpec(image: string): PackageRef {
  const digest = image.indexOf('@');
  if (digest > 0) return { registryType: 'oci', identifier: image.slice(0, digest), version: image.slice(digest + 1) };
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? { registryType: 'oci', identifier: image.slice(0, colon), version: image.slice(colon + 1) } : { registryType: 'oci', identifier: image, version: null };
}

/** The npm package a path into node_modules belongs to (its version is on disk, not in the path). */
export function nodeModulesPackage(path: string): string | null {
  const m = /(?:^|[\\/])node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/@]+)[\\/]/.exec(path);
  return m ? m[1]!.replace(/\\/g, '/') : null;
}

/** The package `command args` runs, or null when it is not a launcher this knows. */
export function launchedPackage(command: string, args: readonly string[]): PackageRef | null {
  const name = launcherName(command);
  const launcher = LAUNCHERS[name];
  if (launcher) {
    const spec = packageSpec(args, launcher.valueFlags, launcher.packageFlags);
    if (!spec) return null;
    return launcher.registry === 'npm' ? npmSpec(spec) : pypiSpec(spec);
  }
  if ((name === 'docker' || name === 'podman') && args[0] === 'run') {
    const image = packageSpec(args.slice(1), CONTAINER_FLAG_VALUE);
    return image ? imageSpec(image) : null;
  }
  if (name === 'node' || name === 'bun') {
    const script = args.find((a) => !a.startsWith('-'));
    const pkg = script ? nodeModulesPackage(script) : null;
    return pkg ? { registryType: 'npm', identifier: pkg, version: null } : null;
  }
  return null;
}

/** `npm:@scope/name@1.2.3` (`@` before the version for every registry; `-` for none). */
export function formatPackage(p: PackageRef): string {
  return `${p.registryType}:${p.identifier}@${p.version ?? '-'}`;
}

/** The inverse of formatPackage; null for anything else. */
export function parsePackage(text: string): PackageRef | null {
  const m = /^(npm|pypi|oci):(.+)@([^@]+)$/.exec(text);
  if (!m) return null;
  return { registryType: m[1] as RegistryType, identifier: m[2]!, version: m[3] === '-' ? null : m[3]! };
}
