// The stand-in API server for a test, and how the agent reaches it: a token file, the
// kubernetes.* settings, a KubeConfig for @kubernetes/client-node. Torn down with the test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigFor } from '../../agent/src/kube/kube-config.js';
import { KubeApiServer } from '../fixtures/kube-apiserver.js';

export interface StandIn {
  api: KubeApiServer;
  /** kubernetes.api_server, token_file, insecure_skip_tls_verify, as the agent takes them. */
  settings: { api_server: string; token_file: string; insecure_skip_tls_verify: true };
  kubeConfig: KubeConfig;
  /** A scratch directory of the test's, removed with it. */
  dir: string;
}

export async function startStandIn(t: { teardown(fn: () => unknown): void }, options: { bookmarkMs?: number } = {}): Promise<StandIn> {
  const api = await new KubeApiServer(options).start();
  t.teardown(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'altrace-kube-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'token'), api.token);
  const settings = { api_server: api.url, token_file: join(dir, 'token'), insecure_skip_tls_verify: true as const };
  return { api, settings, kubeConfig: kubeConfigFor(settings), dir };
}
