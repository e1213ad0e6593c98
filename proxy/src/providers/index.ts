import { globToRegExp, matchesAny } from '../policy/policy.js';
import type { Upstream } from '../upstream/upstreams.js';
import { anthropicAdapter } from './anthropic/index.js';
import { azureAdapter } from './azure/index.js';
import { bedrockAdapter } from './bedrock/index.js';
import { geminiAdapter } from './gemini/index.js';
import { mcpAdapter } from './mcp/index.js';
import { openAiAdapter } from './openai/index.js';
import { Router, type Adapters } from './routes.js';

/**
 * The adapters and route table for a set of upstreams. OpenAI-format requests go to the
 * first OpenAI-compatible upstream whose model globs match, else to OpenAI.
 */
export function buildAdapters(upstreams: ReadonlyMap<string, Upstream>): { adapters: Adapters; router: Router } {
  const compatible = [...upstreams.values()]
    .filter((u) => u.kind === 'openai' && u.name !== 'openai')
    .map((u) => ({ name: u.name, globs: u.models.map(globToRegExp) }));
  const route = (model: string | null) => {
    if (model !== null) for (const c of compatible) if (matchesAny(c.globs, model)) return c.name;
    return 'openai';
  };
  const adapters: Adapters = {
    mcp: mcpAdapter(),
    openai: openAiAdapter(route),
    anthropic: anthropicAdapter(),
    gemini: geminiAdapter(),
    azure: azureAdapter(),
    bedrock: bedrockAdapter(),
  };
  return { adapters, router: new Router(adapters) };
}
