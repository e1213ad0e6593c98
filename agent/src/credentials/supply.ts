import { mcpUpstream } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import { PROVIDER_KEY_ENV } from './store.js';

/**
 * Names `altrace credentials set` stores under: an upstream, or `upstream@team` for a team's own
 * key. An MCP server's `mcp:NAME` is not one, so its key comes from env or files.
 */
export const STORABLE_UPSTREAM = /^[a-z][a-z0-9-]{0,40}(?:@[A-Za-z0-9][A-Za-z0-9_.:-]{0,127})?$/;

/** How an operator supplies one upstream's credential. */
export interface CredentialSupply {
  upstream: string;
  /** The environment variables to set, in words. */
  env: string;
  /** The command that puts it in the encrypted store instead, when there is one. */
  command: string | null;
}

const AWS_KEYS = 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary keys)';

function supply(upstream: string, env: string): CredentialSupply {
  const command = STORABLE_UPSTREAM.test(upstream) ? `altrace credentials set ${upstream}${upstream === 'bedrock' ? ' --aws' : ''}` : null;
  return { upstream, env, command };
}

const providerEnv = (name: string) => PROVIDER_KEY_ENV[name]!.join(' or ');

/**
 * Every upstream the configuration needs a credential for, with where it comes from. Azure is
 * listed even while its endpoint is unset: the endpoint is then part of what is missing.
 */
export function credentialSupplies(config: Config): Map<string, CredentialSupply> {
  const azureEnv = config.providers.azure.endpoint ? providerEnv('azure') : `AZURE_OPENAI_ENDPOINT and ${providerEnv('azure')}`;
  const bedrockEnv = `${AWS_KEYS}, or ${providerEnv('bedrock')}, or ALTRACE_BEDROCK_AWS_CHAIN=true (the whole AWS credential chain)`;
  const list = [
    supply('openai', providerEnv('openai')),
    supply('anthropic', providerEnv('anthropic')),
    supply('gemini', providerEnv('gemini')),
    supply('azure', azureEnv),
    supply('bedrock', bedrockEnv),
    ...config.providers.compatible.flatMap((c) => (c.api_key_env ? [supply(c.name, c.api_key_env)] : [])),
    ...config.mcp.servers.flatMap((s) => (s.api_key_env ? [supply(mcpUpstream(s.name), s.api_key_env)] : [])),
  ];
  return new Map(list.map((s) => [s.upstream, s]));
}

/** The ALT_CREDENTIAL_MISSING hint: what to set for this upstream, not just that something is missing. */
export function credentialHint(s: CredentialSupply): string {
  const store = s.command ? ` (or runs \`${s.command}\` with the key on stdin)` : '';
  return `The agent has no credential for ${s.upstream}: an operator sets ${s.env} in the agent's environment${store}, then restarts the agent.`;
}

/**
 * The upstreams with no credential once every source was read (`configured`: the store's names).
 * With the AWS chain on, Bedrock's is looked up on its first request instead: asking the chain
 * here would reach for instance metadata at every start.
 */
export function credentialGaps(config: Config, configured: readonly string[]): CredentialSupply[] {
  const have = new Set(configured);
  return [...credentialSupplies(config).values()].filter((s) => {
    if (s.upstream === 'azure' && !config.providers.azure.endpoint) return true;
    if (s.upstream === 'bedrock' && config.providers.bedrock.aws_chain) return false;
    return !have.has(s.upstream);
  });
}
