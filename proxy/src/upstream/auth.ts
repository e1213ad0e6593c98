import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credential } from './credential.js';
import type { Upstream } from './upstreams.js';

export type Headers = Record<string, string>;

/**
 * Adds the real credential to an upstream request, in the place its provider expects it. Only
 * SigV4 signing is asynchronous: a key is set at once, with no promise to wait on.
 */
export function injectCredential(up: Upstream, cred: Credential, url: URL, method: string, headers: Headers, body: Uint8Array | null): void | Promise<void> {
  if (cred.type === 'none') return;
  if (cred.type === 'api-key') {
    switch (up.kind) {
      case 'anthropic':
        headers['x-api-key'] = cred.value;
        return;
      case 'gemini':
        headers['x-goog-api-key'] = cred.value;
        return;
      case 'azure':
        headers['api-key'] = cred.value;
        return;
      default:
        // OpenAI, OpenAI-compatible servers, and Bedrock API keys are bearer tokens.
        headers.authorization = `Bearer ${cred.value}`;
        return;
    }
  }
  return signV4(up, cred, url, method, headers, body);
}

async function signV4(up: Upstream, cred: Extract<Credential, { type: 'aws-sigv4' }>, url: URL, method: string, headers: Headers, body: Uint8Array | null): Promise<void> {
  const signer = new SignatureV4({
    service: 'bedrock',
    region: up.region ?? 'us-east-1',
    sha256: Sha256,
    credentials: {
      accessKeyId: cred.accessKeyId,
      secretAccessKey: cred.secretAccessKey,
      ...(cred.sessionToken ? { sessionToken: cred.sessionToken } : {}),
    },
  });
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  headers.host = url.host;
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers,
    body: body ?? undefined,
  });
  Object.assign(headers, signed.headers);
}
