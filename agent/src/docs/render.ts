import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { StageDescription } from '../../../proxy/src/index.js';
import { loadConfig } from '../config/load.js';
import { startAgent } from '../runtime.js';
import { HELP } from '../cli/main.js';
import { chainTable, cliHelp, envTable, errorTable, reasonTable, withGenerated } from './tables.js';

/** The chain exactly as an agent on the shipped policy composes and serves it (GET /api/v1/chain). */
export async function servedChain(): Promise<StageDescription[]> {
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-docs-'));
  const token = `altop-${randomBytes(18).toString('base64url')}`;
  const env = { ALTRACE_PROXY_PORT: '0', ALTRACE_CONTROL_PORT: '0', ALTRACE_STATE_DIR: stateDir, ALTRACE_ADMIN_TOKEN: token };
  const agent = await startAgent(loadConfig({ env }), env, new Writable({ write: (_c, _e, cb) => cb() }));
  try {
    const res = await fetch(`http://127.0.0.1:${agent.controlPort}/api/v1/chain`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET /api/v1/chain answered ${res.status}`);
    return ((await res.json()) as { stages: StageDescription[] }).stages;
  } finally {
    await agent.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** docs/reference.md with every generated section rendered from the code. */
export async function renderReference(doc: string): Promise<string> {
  let out = withGenerated(doc, 'chain', chainTable(await servedChain()));
  out = withGenerated(out, 'reasons', reasonTable());
  out = withGenerated(out, 'errors', errorTable());
  out = withGenerated(out, 'env', envTable());
  out = withGenerated(out, 'cli', cliHelp(HELP));
  return out;
}
