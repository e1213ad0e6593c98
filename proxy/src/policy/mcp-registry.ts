// The MCP server registry of the policy (`mcp.servers`): per server, the tools approved and the
// digests they were approved with, and what to do with a tool that is new or has changed shape.

export interface PinnedTool {
  model: string;
  structure: string;
  readOnly: boolean | null;
  destructive: boolean | null;
}

export interface McpServerPins {
  tools: ReadonlyMap<string, PinnedTool>;
  unapproved: 'block' | 'flag';
  structureChange: 'block' | 'flag';
}

export interface McpRegistryDocument {
  servers?: Record<string, { tools?: Record<string, { model: string; structure: string; read_only?: boolean; destructive?: boolean }>; unapproved?: 'block' | 'flag'; structure_change?: 'block' | 'flag' }>;
}

/** Server name → its pins; a server the registry does not list is not checked. */
export type McpRegistry = ReadonlyMap<string, McpServerPins>;

export function compileMcpRegistry(doc: McpRegistryDocument | undefined): McpRegistry {
  return new Map(
    Object.entries(doc?.servers ?? {}).map(([name, s]) => [
      name,
      {
        tools: new Map(Object.entries(s.tools ?? {}).map(([tool, p]) => [tool, { model: p.model, structure: p.structure, readOnly: p.read_only ?? null, destructive: p.destructive ?? null }])),
        unapproved: s.unapproved ?? 'block',
        structureChange: s.structure_change ?? 'block',
      },
    ]),
  );
}
