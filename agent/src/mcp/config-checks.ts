// What a configured MCP server risks before it says a word: credentials written into the config,
// commands a shell will interpret, packages fetched unpinned at every start, and the reach it is
// given. Offline: nothing in a config leaves the machine.
import { LAUNCHERS, packageSpec, type DetectorSet } from '../../../proxy/src/index.js';
import type { McpServerEntry } from './client-configs.js';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface ConfigFinding {
  rule: string;
  severity: Severity;
  server: string;
  file: string;
  /** JSON path of what the finding is about (`mcpServers.github.env.GITHUB_TOKEN`); never its value. */
  at: string;
  message: string;
}

/** `${input:token}`, `${env:X}`, `${X}`, `$X`, `%X%`: a reference the client fills in, not a value. */
const REFERENCE = /^\$\{[^}]+\}$|^\$[A-Z_][A-Z0-9_]*$|^%[A-Z_][A-Z0-9_]*%$/i;
const SECRET_NAME = /(?:^|_|-)(?:token|secret|password|passwd|pat|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth)(?:$|_|-)/i;
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'fish', 'cmd', 'cmd.exe', 'powershell', 'powershell.exe', 'pwsh']);
const NPM_PINNED = /^(?:@[^/@\s]+\/)?[^@\s]+@\d+\.\d+\.\d+(?:[-+][\w.-]+)?$/;
/** Whether a launcher's package spec names an exact version. */
const PINNED: Record<string, (spec: string) => boolean> = {
  npx: (s) => NPM_PINNED.test(s),
  bunx: (s) => NPM_PINNED.test(s),
  uvx: (s) => /^[\w.-]+(?:\[[\w,.-]+\])?==\d[\w.]*$/.test(s),
  pipx: (s) => /^[\w.-]+==\d[\w.]*$/.test(s),
};
const base = (command: string) => command.split(/[\\/]/).pop()!.toLowerCase();

function credentialFindings(s: McpServerEntry, detectors: DetectorSet): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  const secretAt = (value: string, at: string, named: boolean, what: string) => {
    if (REFERENCE.test(value.trim()) || value.trim() === '') return;
    const found = detectors.scan(value, SECRETS_ONLY).find((f) => f.label === 'secret');
    // A value a detector recognises, or any literal of some length under a name that says it is a secret.
    if (found || (named && value.length >= 8 && !/\s/.test(value))) {
      out.push({ rule: 'config-credential', severity: 'critical', server: s.name, file: s.file, at, message: `${what} holds a credential${found ? ` (${found.rule})` : ''}: move it to the client's secret input or an environment reference, and rotate it` });
    }
  };
  for (const [k, v] of Object.entries(s.env)) secretAt(v, `${s.at}.env.${k}`, SECRET_NAME.test(k), `env ${k}`);
  for (const [k, v] of Object.entries(s.headers)) secretAt(v.replace(/^(?:Bearer|Basic|token)\s+/i, ''), `${s.at}.headers.${k}`, /authorization|api[-_]?key|token|secret/i.test(k), `header ${k}`);
  s.args.forEach((a, i) => {
    const flag = /^--?([\w-]*(?:token|key|secret|password)[\w-]*)=(.+)$/i.exec(a);
    const previous = s.args[i - 1];
    if (flag) secretAt(flag[2]!, `${s.at}.args[${i}]`, true, `argument --${flag[1]}`);
    else if (previous && /^--?[\w-]*(?:token|key|secret|password)[\w-]*$/i.test(previous)) secretAt(a, `${s.at}.args[${i}]`, true, `argument ${previous}`);
    else secretAt(a, `${s.at}.args[${i}]`, false, `argument ${i}`);
  });
  if (s.url) {
    try {
      const u = new URL(s.url);
      if (u.password) out.push({ rule: 'config-credential', severity: 'critical', server: s.name, file: s.file, at: `${s.at}.url`, message: 'the URL carries a password' });
      for (const [k, v] of u.searchParams) secretAt(v, `${s.at}.url`, SECRET_NAME.test(k), `URL parameter ${k}`);
    } catch {
      out.push({ rule: 'config-invalid-url', severity: 'medium', server: s.name, file: s.file, at: `${s.at}.url`, message: 'the URL does not parse' });
    }
  }
  return out;
}

const SECRETS_ONLY = new Set(['secrets'] as const);

function commandFindings(s: McpServerEntry): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  if (s.wrapped === '') out.push({ rule: 'wrap-incomplete', severity: 'medium', server: s.name, file: s.file, at: `${s.at}.args`, message: 'altrace mcp wrap without --server NAME, or without the server command after --: the wrap refuses to start, and so does the server' });
  if (!s.command) return out;
  if (s.wrapped === null) out.push({ rule: 'stdio-ungoverned', severity: 'low', server: s.name, file: s.file, at: `${s.at}.command`, message: 'a stdio server the client starts itself: its tool calls and results pass no governance (run it through altrace mcp wrap; --emit-config rewrites the configuration)' });
  const cmd = base(s.command);
  if (SHELLS.has(cmd) && s.args.some((a) => /^(?:-c|\/c|-Command|-EncodedCommand)$/i.test(a))) {
    out.push({ rule: 'command-shell', severity: 'high', server: s.name, file: s.file, at: `${s.at}.command`, message: `runs through ${cmd}: what its script line says is interpreted by a shell (injection, and whatever else the line starts); name the server's executable and arguments instead` });
  }
  if (SHELLS.has(cmd)) {
    const line = s.args.join(' ');
    if (/curl[^|]*\|\s*(?:ba|z|)sh\b|wget[^|]*\|\s*(?:ba|z|)sh\b/.test(line)) out.push({ rule: 'command-pipe-to-shell', severity: 'critical', server: s.name, file: s.file, at: `${s.at}.args`, message: 'downloads a script and pipes it to a shell at every start' });
  }
  const launcher = LAUNCHERS[cmd];
  if (launcher) {
    const spec = packageSpec(s.args, launcher.valueFlags, launcher.packageFlags);
    if (spec && !PINNED[cmd]!(spec)) {
      out.push({ rule: 'package-unpinned', severity: 'medium', server: s.name, file: s.file, at: `${s.at}.args`, message: `${cmd} fetches ${spec} at every start without an exact version: whatever is published next runs with this client's access (pin ${cmd === 'uvx' || cmd === 'pipx' ? 'name==x.y.z' : 'name@x.y.z'})` });
    }
    if (cmd === 'npx' && s.args.some((a) => a === '-y' || a === '--yes')) {
      out.push({ rule: 'package-auto-install', severity: 'low', server: s.name, file: s.file, at: `${s.at}.args`, message: 'npx -y installs without asking: a typo in the name installs someone else\'s package' });
    }
  }
  if (cmd === 'docker' || cmd === 'podman') {
    const image = s.args.find((a, i) => i > 0 && !a.startsWith('-') && /[:/]|^[a-z0-9.-]+$/.test(a) && s.args[i - 1] !== '-e' && s.args[i - 1] !== '--env' && s.args[i - 1] !== '-v' && s.args[i - 1] !== '--name');
    if (image && !image.includes('@sha256:')) out.push({ rule: 'image-unpinned', severity: 'medium', server: s.name, file: s.file, at: `${s.at}.args`, message: `the image ${image} is named by tag, not by digest: the tag can move` });
    if (s.args.includes('--privileged')) out.push({ rule: 'container-privileged', severity: 'high', server: s.name, file: s.file, at: `${s.at}.args`, message: 'the container runs privileged' });
    s.args.forEach((a, i) => {
      if ((s.args[i - 1] === '-v' || s.args[i - 1] === '--volume') && /^(?:\/|~|\$HOME|\/var\/run\/docker\.sock)(?::|$)/.test(a)) out.push({ rule: 'scope-broad-mount', severity: 'high', server: s.name, file: s.file, at: `${s.at}.args[${i}]`, message: `mounts ${a.split(':')[0]} into the container` });
    });
  }
  return out;
}

function scopeFindings(s: McpServerEntry): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  const serverName = s.args.find((a) => /server-filesystem|filesystem/.test(a));
  if (serverName) {
    s.args.forEach((a, i) => {
      if (/^(?:\/|~|~\/|\$HOME|%USERPROFILE%|[A-Za-z]:\\?)$/.test(a)) out.push({ rule: 'scope-broad-filesystem', severity: 'high', server: s.name, file: s.file, at: `${s.at}.args[${i}]`, message: `gives the filesystem server ${a}: every file the user can read and write` });
    });
  }
  if (s.args.some((a) => /^--(?:allow-all|allow-write-all|unsafe|no-sandbox|dangerously[\w-]*)$/.test(a))) {
    out.push({ rule: 'scope-unrestricted', severity: 'high', server: s.name, file: s.file, at: `${s.at}.args`, message: 'started with a flag that lifts its own restrictions' });
  }
  if (s.url) {
    try {
      const u = new URL(s.url);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
      if (u.protocol === 'http:' && !loopback) out.push({ rule: 'transport-cleartext', severity: 'high', server: s.name, file: s.file, at: `${s.at}.url`, message: 'a remote server over plain http: its tool calls, results and credentials cross the network readable' });
    } catch {
      // reported with the credentials
    }
  }
  return out;
}

/** Every finding for every server, most severe first. */
export function checkConfigs(servers: readonly McpServerEntry[], detectors: DetectorSet): ConfigFinding[] {
  const findings = servers.flatMap((s) => [...credentialFindings(s, detectors), ...commandFindings(s), ...scopeFindings(s)]);
  // The same server name in two configs of one client is fine; one name for two different servers is a shadowing risk.
  const byName = new Map<string, McpServerEntry[]>();
  for (const s of servers) byName.set(s.name.toLowerCase(), [...(byName.get(s.name.toLowerCase()) ?? []), s]);
  for (const [, same] of byName) {
    const distinct = new Set(same.map((s) => `${s.command ?? ''} ${s.args.join(' ')} ${s.url ?? ''}`));
    if (distinct.size > 1) {
      for (const s of same) findings.push({ rule: 'server-name-collision', severity: 'medium', server: s.name, file: s.file, at: s.at, message: `another configuration names a different server "${s.name}": the agent cannot tell which one's tools it is calling` });
    }
  }
  return sortFindings(findings);
}

/** Most severe first, then by file and place. */
export function sortFindings(findings: ConfigFinding[]): ConfigFinding[] {
  return findings.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.file.localeCompare(b.file) || a.at.localeCompare(b.at));
}
