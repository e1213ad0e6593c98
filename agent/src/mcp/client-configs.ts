// The MCP client configurations people have: where each client keeps its servers, and the one
// shape they are all read into. Claude Desktop, Claude Code, Cursor and Windsurf keep
// `{"mcpServers": {name: {...}}}`; VS Code keeps `{"servers": {name: {...}}}` (and `mcp.servers`
// inside its settings.json).
import { existsSync, readFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { isRecord } from '../../../proxy/src/index.js';

export type McpClient = 'claude-desktop' | 'claude-code' | 'cursor' | 'vscode' | 'windsurf' | 'file';

/** One configured server, stdio (command) or remote (url). */
export interface McpServerEntry {
  client: McpClient;
  file: string;
  name: string;
  /** JSON path of the entry in its file, for findings (`mcpServers.github`). */
  at: string;
  command: string | null;
  args: string[];
  env: Record<string, string>;
  url: string | null;
  headers: Record<string, string>;
  /**
   * For a server started through `altrace mcp wrap`: the name it is governed as (--server).
   * `command` and `args` are then the server's own, after the wrap's `--`.
   */
  wrapped: string | null;
}

/** `altrace mcp wrap --server NAME ... -- COMMAND ARGS`, as a client config writes it (altrace, or node running its bin). */
export function unwrap(command: string | null, args: string[]): { command: string | null; args: string[]; wrapped: string | null } {
  const bin = command?.split(/[\\/]/).pop() ?? '';
  const at = /^altrace(?:\.js|\.cmd)?$/.test(bin) ? 0 : /^node(?:\.exe)?$/.test(bin) && /(?:^|[\\/])altrace(?:\.js)?$/.test(args[0] ?? '') ? 1 : -1;
  if (at < 0 || args[at] !== 'mcp' || args[at + 1] !== 'wrap') return { command, args, wrapped: null };
  const dash = args.indexOf('--', at + 2);
  const own = args.slice(at + 2, dash < 0 ? undefined : dash);
  const server = own[own.indexOf('--server') + 1];
  const inner = dash < 0 ? [] : args.slice(dash + 1);
  return { command: inner[0] ?? null, args: inner.slice(1), wrapped: own.includes('--server') && server ? server : '' };
}

export class McpConfigError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'McpConfigError';
  }
}

/** The configuration files of each client on this OS, for `--all`, under `home` (the user's) and `cwd` (a project's). */
function knownConfigFiles(home = homedir(), cwd = process.cwd(), os = platform()): { client: McpClient; file: string }[] {
  const appData = os === 'win32' ? (process.env.APPDATA ?? join(home, 'AppData', 'Roaming')) : os === 'darwin' ? join(home, 'Library', 'Application Support') : join(home, '.config');
  return [
    { client: 'claude-desktop' as const, file: join(appData, 'Claude', 'claude_desktop_config.json') },
    { client: 'claude-code' as const, file: join(home, '.claude.json') },
    { client: 'claude-code' as const, file: join(cwd, '.mcp.json') },
    { client: 'cursor' as const, file: join(home, '.cursor', 'mcp.json') },
    { client: 'cursor' as const, file: join(cwd, '.cursor', 'mcp.json') },
    { client: 'vscode' as const, file: join(cwd, '.vscode', 'mcp.json') },
    { client: 'vscode' as const, file: join(appData, 'Code', 'User', 'settings.json') },
    { client: 'vscode' as const, file: join(appData, 'Code', 'User', 'mcp.json') },
    { client: 'windsurf' as const, file: join(home, '.codeium', 'windsurf', 'mcp_config.json') },
  ];
}

const strings = (v: unknown): Record<string, string> => (isRecord(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {});

/** VS Code's settings.json allows comments and trailing commas; the others are plain JSON. */
function parseJsonc(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const stripped = text.replace(/("(?:[^"\\\n]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m, quoted: string | undefined) => quoted ?? '').replace(/,(\s*[}\]])/g, '$1');
    return JSON.parse(stripped);
  }
}

/** A configuration document, read; a file that is not one is an error naming it. */
export function readConfigDocument(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseJsonc(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new McpConfigError(file, `not a readable JSON configuration (${(err as Error).message})`);
  }
  if (!isRecord(doc)) throw new McpConfigError(file, 'not a JSON object');
  return doc;
}

/** Each server entry of a document as the client wrote it (the object itself), with its JSON path. */
export function serverObjects(doc: Record<string, unknown>): { at: string; name: string; raw: Record<string, unknown> }[] {
  const sections: [string, unknown][] = [];
  if (isRecord(doc.mcpServers)) sections.push(['mcpServers', doc.mcpServers]);
  if (isRecord(doc.servers)) sections.push(['servers', doc.servers]);
  if (isRecord(doc.mcp) && isRecord(doc.mcp.servers)) sections.push(['mcp.servers', doc.mcp.servers]);
  // Claude Code keeps per-project servers under projects.<path>.mcpServers in ~/.claude.json.
  if (isRecord(doc.projects)) {
    for (const [path, p] of Object.entries(doc.projects)) if (isRecord(p) && isRecord(p.mcpServers)) sections.push([`projects.${JSON.stringify(path)}.mcpServers`, p.mcpServers]);
  }
  // VS Code's settings.json writes the nested key flat.
  if (isRecord(doc['mcp.servers'])) sections.push(['"mcp.servers"', doc['mcp.servers']]);
  const out: { at: string; name: string; raw: Record<string, unknown> }[] = [];
  for (const [section, servers] of sections) {
    for (const [name, raw] of Object.entries(servers as Record<string, unknown>)) if (isRecord(raw)) out.push({ at: `${section}.${name}`, name, raw });
  }
  return out;
}

/** The servers of one configuration file, whichever client wrote it; a file that is not one is an error naming it. */
export function readConfigFile(file: string, client: McpClient = 'file'): McpServerEntry[] {
  const doc = readConfigDocument(file);
  if (!['mcpServers', 'servers', 'mcp', 'projects', 'mcp.servers'].some((k) => isRecord(doc[k]) && (k !== 'mcp' || isRecord((doc.mcp as Record<string, unknown>).servers)))) {
    throw new McpConfigError(file, 'names no MCP servers (no mcpServers, servers or mcp.servers)');
  }
  return serverObjects(doc).map(({ at, name, raw }) => ({
    client,
    file,
    name,
    at,
    ...unwrap(typeof raw.command === 'string' ? raw.command : null, Array.isArray(raw.args) ? raw.args.filter((a): a is string => typeof a === 'string') : []),
    env: strings(raw.env),
    url: typeof raw.url === 'string' ? raw.url : typeof raw.serverUrl === 'string' ? raw.serverUrl : null,
    headers: strings(raw.headers),
  }));
}

/** Every known configuration that exists here, read; unreadable ones are reported, not skipped silently. */
export function readKnownConfigs(home?: string, cwd?: string): { servers: McpServerEntry[]; errors: McpConfigError[]; files: string[] } {
  const servers: McpServerEntry[] = [];
  const errors: McpConfigError[] = [];
  const files: string[] = [];
  for (const { client, file } of knownConfigFiles(home, cwd)) {
    // Run in the home directory, a project file and a user file are the same file.
    if (!existsSync(file) || files.includes(file)) continue;
    files.push(file);
    try {
      servers.push(...readConfigFile(file, client));
    } catch (err) {
      // A settings.json without MCP servers is ordinary: only a file that should hold them and cannot be read is an error.
      if (err instanceof McpConfigError && /names no MCP servers/.test(err.message) && file.endsWith('settings.json')) continue;
      errors.push(err instanceof McpConfigError ? err : new McpConfigError(file, (err as Error).message));
    }
  }
  return { servers, errors, files };
}
