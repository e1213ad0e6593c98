import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parse as parseYaml } from 'yaml';
import { runCli } from './process.js';

/** An MCP server's own tools/list answer, asked directly (as an operator would before pinning). */
export async function listDirectly(url: string): Promise<unknown> {
  return listTools(url, {});
}

/** A server's tools listed through the proxy (`/mcp/{server}`) with an agent's virtual key, by the MCP SDK's client. */
export function listThroughProxy(proxyUrl: string, key: string, server: string): ReturnType<Client['listTools']> {
  return listTools(`${proxyUrl}/mcp/${server}`, { authorization: `Bearer ${key}` });
}

async function listTools(url: string, headers: Record<string, string>): ReturnType<Client['listTools']> {
  const client = new Client({ name: 'scribe', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  try {
    return await client.listTools();
  } finally {
    await client.close();
  }
}

/** The policy's `mcp` entry `altrace mcp pin` prints for a tools/list answer (written to `dir`). */
export async function pinWithCli(dir: string, server: string, list: unknown): Promise<{ servers: Record<string, unknown> }> {
  const file = join(dir, `${server}-tools.json`);
  writeFileSync(file, JSON.stringify(list));
  const pinned = await runCli(['mcp', 'pin', file, '--server', server]);
  if (pinned.code !== 0) throw new Error(pinned.stderr);
  return (parseYaml(pinned.stdout) as { mcp: { servers: Record<string, unknown> } }).mcp;
}
