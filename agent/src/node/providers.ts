import type { Upstream } from '../../../proxy/src/index.js';
import { parseDestination, type DestinationSpec } from './destinations.js';

/**
 * The providers' public hosts: AI destinations whatever the upstream overrides say. Patterns
 * are learned from the DNS answers governed pods receive (the node cannot resolve a pattern).
 */
export const PROVIDER_HOSTS: readonly DestinationSpec[] = [
  { provider: 'openai', host: 'api.openai.com' },
  { provider: 'anthropic', host: 'api.anthropic.com' },
  { provider: 'gemini', host: 'generativelanguage.googleapis.com' },
  { provider: 'vertex', host: 'aiplatform.googleapis.com' },
  { provider: 'vertex', host: '*-aiplatform.googleapis.com' },
  { provider: 'azure', host: '*.openai.azure.com' },
  { provider: 'azure', host: '*.cognitiveservices.azure.com' },
  { provider: 'azure', host: '*.services.ai.azure.com' },
  { provider: 'bedrock', host: 'bedrock-runtime.*.amazonaws.com' },
];

/**
 * Ranges a provider publishes for its API and only its API. Anthropic documents its inbound
 * API addresses (https://platform.claude.com/docs/en/api/ip-addresses; 153.61.224.0/22 is on
 * some revisions of that page only, and kept: a range too many fails closed). OpenAI (behind a
 * CDN), Google, Azure and AWS serve their APIs from ranges shared with everything else they
 * host, so those are covered by resolved and observed addresses instead (docs/bypass.md says
 * what that leaves uncovered).
 */
export const PUBLISHED_RANGES: readonly DestinationSpec[] = [
  { provider: 'anthropic', host: '160.79.104.0/23', published: true },
  { provider: 'anthropic', host: '153.61.224.0/22', published: true },
  { provider: 'anthropic', host: '2607:6bc0::/48', published: true },
];

/** The destination set's specs: provider hosts and ranges, every configured upstream's host, and extras. */
export function destinationSpecs(upstreams: ReadonlyMap<string, Upstream>, extra: readonly string[]): DestinationSpec[] {
  const specs = [...PROVIDER_HOSTS, ...PUBLISHED_RANGES];
  for (const u of upstreams.values()) specs.push({ provider: u.name, host: u.base.hostname.replace(/^\[|\]$/g, '') });
  for (const e of extra) specs.push({ provider: 'configured', host: parseDestination(e) });
  const seen = new Set<string>();
  return specs.filter((s) => (seen.has(s.host.toLowerCase()) ? false : (seen.add(s.host.toLowerCase()), true)));
}
