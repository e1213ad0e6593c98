import type { IncomingMessage, ServerResponse } from 'node:http';
import { evidenceOf, type EvidenceLedger } from '../contracts/evidence.js';
import type { KillSwitches } from '../enforcement/kill-switches.js';
import { presentedCredential } from '../identity/presented.js';
import type { KeyRegistry } from '../identity/keys.js';
import type { PolicyHolder } from '../policy/policy.js';
import { parseJson, readBody } from './body.js';

export const EVIDENCE_PATH = '/altrace/v1/evidence';
const MAX_BODY = 64 * 1024;
const MAX_ITEMS = 64;

export interface EvidenceSubmissionDeps {
  keys: KeyRegistry;
  kills: KillSwitches;
  policy: PolicyHolder;
  ledger: EvidenceLedger;
  /** limits.max_json_depth, as on the provider paths. */
  maxJsonDepth: number;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, code: string, message: string, field?: string): void {
  reply(res, status, { error: { code, message, ...(field ? { field } : {}) } });
}

/**
 * `POST /altrace/v1/evidence`: an agent's SDK reports tools that returned outside the
 * conversation the proxy sees (a lookup done by code, not by the model), for the evidence
 * rules of its contracts. Authenticated by the agent's virtual key, recorded for its own run
 * only, and like every evidence kept as digests of the bound arguments, never their values.
 * Body: {"run": "...", "evidence": [{"tool": "lookup_order", "arguments": {...}}]}.
 */
export async function submitEvidence(req: IncomingMessage, res: ServerResponse, d: EvidenceSubmissionDeps, now: () => number = Date.now): Promise<void> {
  if (req.method !== 'POST') return refuse(res, 405, 'ALT_METHOD_NOT_ALLOWED', `use POST on ${EVIDENCE_PATH}`);
  const secret = presentedCredential(req.headers, new URLSearchParams()).virtual;
  const key = secret ? d.keys.findBySecret(secret) : undefined;
  if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now())) {
    return refuse(res, 401, 'ALT_KEY_UNKNOWN', 'present a valid virtual key (Authorization: Bearer alt-...)');
  }
  const killed = d.kills.stopping({ agent: key.agent, team: key.team });
  if (killed) return refuse(res, 403, killed.scope === 'global' ? 'ALT_KILLED_GLOBAL' : killed.scope === 'team' ? 'ALT_KILLED_TEAM' : 'ALT_KILLED_AGENT', 'a kill switch stops this agent');
  const read = await readBody(req, MAX_BODY, null);
  if (read.tooLarge) return refuse(res, 413, 'ALT_BODY_TOO_LARGE', `the body exceeds ${MAX_BODY} bytes`);
  const parsed = parseJson(read.bytes, d.maxJsonDepth);
  if (parsed.error !== null) return refuse(res, 400, parsed.tooDeep ? 'ALT_JSON_TOO_DEEP' : 'ALT_MALFORMED_JSON', parsed.error);
  const b = parsed.value as { run?: unknown; evidence?: unknown };
  if (typeof b !== 'object' || b === null) return refuse(res, 400, 'ALT_INVALID_REQUEST', 'the body must be a JSON object', '(body)');
  if (typeof b.run !== 'string' || b.run === '' || b.run.length > 200) return refuse(res, 400, 'ALT_INVALID_REQUEST', 'run must be the x-altrace-run id (1–200 characters)', 'run');
  if (!Array.isArray(b.evidence) || b.evidence.length === 0 || b.evidence.length > MAX_ITEMS) {
    return refuse(res, 400, 'ALT_INVALID_REQUEST', `evidence must be a list of 1 to ${MAX_ITEMS} {tool, arguments}`, 'evidence');
  }
  const paths = d.policy.current.contracts.evidencePaths;
  const items = [];
  for (const [i, e] of (b.evidence as unknown[]).entries()) {
    const item = e as { tool?: unknown; arguments?: unknown };
    if (typeof item !== 'object' || item === null || typeof item.tool !== 'string' || item.tool === '') {
      return refuse(res, 400, 'ALT_INVALID_REQUEST', 'each item needs a tool name', `evidence.${i}.tool`);
    }
    // Only what some evidence rule could ask for is kept.
    const want = paths.get(item.tool);
    if (want) items.push(evidenceOf(item.tool, item.arguments, want));
  }
  d.ledger.record(key.agent, b.run, items, now());
  reply(res, 200, { recorded: items.length, ignored: b.evidence.length - items.length });
}
