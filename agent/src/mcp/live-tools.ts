// `altrace mcp scan --connect`: each configured server's live tool list, fetched the way its client
// would (starting a stdio server, or calling a remote one), and scanned here as the proxy scans a
// tools/list answer. Nothing leaves the machine but the calls the client itself would make.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { nameCollides, type DetectorSet } from '../../../proxy/src/index.js';
import type { McpServerEntry } from './client-configs.js';
import type { ConfigFinding } from './config-checks.js';
import { toolDefinitionLabels } from './tool-eval.js';

export type LiveTool = Record<string, unknown> & { name: string };

export interface LiveList {
  server: McpServerEntry;
  tools: LiveTool[] | null;
  /** Why the list could not be had (the server did not start, refused, timed out). */
  error: string | null;
}

function transportFor(s: McpServerEntry): Transport | null {
  if (s.command) return new StdioClientTransport({ command: s.command, args: s.args, env: { ...getDefaultEnvironment(), ...s.env }, stderr: 'ignore' });
  if (s.url) return new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: s.headers } });
  return null;
}

/** The server's tools, as its tools/list answers them now; every page. */
export async function listLiveTools(s: McpServerEntry, timeoutMs: number): Promise<LiveList> {
  let transport: Transport | null;
  try {
    transport = transportFor(s);
  } catch (err) {
    return { server: s, tools: null, error: (err as Error).message };
  }
  if (!transport) return { server: s, tools: null, error: 'neither a command nor a url' };
  const client = new Client({ name: 'altrace-mcp-scan', version: '1.0.0' });
  const timer = setTimeout(() => void client.close(), timeoutMs);
  try {
    await client.connect(transport, { timeout: timeoutMs });
    const tools: LiveTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: timeoutMs });
      tools.push(...(page.tools as LiveTool[]));
      cursor = page.nextCursor;
    } while (cursor && tools.length < 10_000);
    return { server: s, tools, error: null };
  } catch (err) {
    return { server: s, tools: null, error: (err as Error).message.slice(0, 300) };
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => undefined);
  }
}

/** Findings over the live lists: poisoned definitions, secrets in them, names that shadow another server's tool. */
export function liveToolFindings(lists: readonly LiveList[], set: DetectorSet): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  for (const { server: s, tools, error } of lists) {
    if (!tools) {
      out.push({ rule: 'connect-failed', severity: 'low', server: s.name, file: s.file, at: s.at, message: `its tool list could not be read: ${error}` });
      continue;
    }
    tools.forEach((tool, i) => {
      const labels = toolDefinitionLabels(set, tool);
      const at = `${s.at} tools[${i}] ${tool.name}`;
      if (labels.includes('secret')) out.push({ rule: 'tool-secret', severity: 'critical', server: s.name, file: s.file, at, message: `the definition of tool ${tool.name} holds a credential` });
      const injection = labels.filter((l) => l.startsWith('injection.'));
      if (injection.length > 0) out.push({ rule: 'tool-poisoning', severity: 'high', server: s.name, file: s.file, at, message: `the definition of tool ${tool.name} speaks to the model (${injection.join(', ')}): the proxy refuses its list` });
    });
    for (const other of lists) {
      if (other.server === s || !other.tools || other.server.name === s.name) continue;
      for (const mine of tools) {
        const theirs = other.tools.find((t) => nameCollides(t.name, mine.name));
        if (theirs) out.push({ rule: 'tool-shadowing', severity: 'high', server: s.name, file: s.file, at: `${s.at} ${mine.name}`, message: `tool ${mine.name} is named like ${other.server.name}'s ${theirs.name}: the model may call the wrong one (or be made to)` });
      }
    }
  }
  return out;
}
