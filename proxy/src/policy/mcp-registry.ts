// The MCP server registry of the policy (`mcp.servers`): per server, the tools approved and the
// digests they were approved with, and what to do with a tool that is new or has changed shape.

import type { FlowLabel } from '../mcp-trust/flows.js';

export interface PinnedTool {
  model: string;
  structure: string;
  readOnly: boolean | null;
  destructive: boolean | null;
  /** Toxic-flow labels the operator gave it; null: inferred from its name. */
  labels: readonly FlowLabel[] | null;
}

export interface McpServerPins {
  tools: ReadonlyMap<string, PinnedTool>;
  unapproved: 'block' | 'flag';
  structureChange: 'block' | 'flag';
}

export interface McpRegistryDocument {
  servers?: Record<string, { tools?: Record<string, { model: string; structure: string; read_only?: boolean; destructive?: boolean; labels?: FlowLabel[] }>; unapproved?: 'block' | 'flag'; structure_change?: 'block' | 'flag' }>;
  toxic_flows?: 'block' | 'flag';
  flow_window_s?: number;
}

/** Server name → its pins; a server the registry does not list is not checked. */
export type McpRegistry = ReadonlyMap<string, McpServerPins>;

export interface ToxicFlowPolicy {
  action: 'block' | 'flag';
  windowMs: number;
}

/** Off unless the policy sets `mcp.toxic_flows`. */
export function compileToxicFlows(doc: McpRegistryDocument | undefined): ToxicFlowPolicy | null {
  return doc?.toxic_flows ? { action: doc.toxic_flows, windowMs: (doc.flow_window_s ?? 3600) * 1000 } : null;
}

export function compileMcpRegistry(doc: McpRegistryDocument | undefined): McpRegistry {
  return new Map(
    Object.entries(doc?.servers ?? {}).map(([name, s]) => [
      name,
      {
        tools: new Map(Object.entries(s.tools ?? {}).map(([tool, p]) => [tool, { model: p.model, structure: p.structure, readOnly: p.read_only ?? null, destructive: p.destructive ?? null, labels: p.labels ?? null }])),
        unapproved: s.unapproved ?? 'block',
        structureChange: s.structure_change ?? 'block',
      },
    ]),
  );
}
