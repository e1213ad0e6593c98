// The upstreams the configuration names: the providers, OpenAI-compatible servers and MCP
// servers, with where each processes data and how its credential is supplied.
import { mcpUpstream, RELAYED_BASE, type Upstream } from '../../proxy/src/index.js';
import type { Config } from './config/config.js';
import { credentialHint, credentialSupplies } from './credentials/supply.js';

const DEFAULT_BASES = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

export function upstreamsFrom(config: Config): Map<string, Upstream> {
  const p = config.providers;
  const list: Upstream[] = [
    // OpenAI's and Anthropic's default APIs process data in the US; set region when a base URL says otherwise.
    { name: 'openai', kind: 'openai', base: new URL(p.openai.base_url ?? DEFAULT_BASES.openai), credentialRequired: true, models: [], dataRegion: p.openai.region ?? 'us' },
    { name: 'anthropic', kind: 'anthropic', base: new URL(p.anthropic.base_url ?? DEFAULT_BASES.anthropic), credentialRequired: true, models: [], dataRegion: p.anthropic.region ?? 'us' },
    { name: 'gemini', kind: 'gemini', base: new URL(p.gemini.base_url ?? DEFAULT_BASES.gemini), credentialRequired: true, models: [], dataRegion: p.gemini.region ?? null },
    {
      name: 'bedrock',
      kind: 'bedrock',
      base: new URL(p.bedrock.base_url ?? `https://bedrock-runtime.${p.bedrock.region}.amazonaws.com`),
      region: p.bedrock.region,
      credentialRequired: true,
      models: [],
      dataRegion: p.bedrock.region,
    },
  ];
  if (p.azure.endpoint) list.push({ name: 'azure', kind: 'azure', base: new URL(p.azure.endpoint), credentialRequired: true, models: [], dataRegion: p.azure.region ?? null });
  for (const c of p.compatible) {
    list.push({ name: c.name, kind: 'openai', base: new URL(c.base_url), credentialRequired: c.api_key_env !== undefined, models: c.models, dataRegion: c.region ?? null });
  }
  for (const s of config.mcp.servers) {
    const relayed = s.transport === 'stdio';
    list.push({ name: mcpUpstream(s.name), kind: 'mcp', base: new URL(relayed ? RELAYED_BASE : s.url!), credentialRequired: s.api_key_env !== undefined, models: [], dataRegion: s.region ?? null, ...(relayed ? { relayed } : {}) });
  }
  const supplies = credentialSupplies(config);
  for (const u of list) {
    const supply = u.credentialRequired ? supplies.get(u.name) : undefined;
    if (supply) u.credentialHint = credentialHint(supply);
  }
  return new Map(list.map((u) => [u.name, u]));
}

