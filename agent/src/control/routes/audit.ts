import type { AuditQuery, AuditService } from '../../audit/service.js';
import { ControlError } from '../../errors.js';
import type { ControlRoutes } from '../router.js';

const FILTERS = new Set(['agent', 'team', 'reason', 'outcome', 'kind', 'before', 'limit']);

function parseQuery(query: URLSearchParams): AuditQuery {
  for (const k of query.keys()) if (!FILTERS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known filter (${[...FILTERS].join(', ')})`, k);
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = query.get(name);
    if (v === null) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new ControlError('ALT_INVALID_FIELD', `${name} must be an integer from ${min} to ${max}`, name);
    return n;
  };
  const kind = query.get('kind');
  if (kind !== null && kind !== 'decision' && kind !== 'control') throw new ControlError('ALT_INVALID_FIELD', 'kind must be decision or control', 'kind');
  const q: AuditQuery = { limit: int('limit', 1, 1000) ?? 100 };
  const before = int('before', 0, Number.MAX_SAFE_INTEGER);
  if (before !== undefined) q.before = before;
  if (kind) q.kind = kind;
  for (const f of ['agent', 'team', 'reason', 'outcome'] as const) {
    const v = query.get(f);
    if (v) q[f] = v;
  }
  return q;
}

export function auditRoutes(routes: ControlRoutes, audit: AuditService): void {
  routes
    .add('GET', '/audit', 'audit', async ({ operator, query }) => ({ status: 200, body: await audit.query(operator, parseQuery(query)) }))
    .add('GET', '/audit/verify', 'audit', async ({ operator }) => {
      const r = await audit.verify(operator);
      return {
        status: 200,
        body: { ok: r.ok, records: r.records, checkpoints: r.checkpoints, first_bad_record: r.firstBadRecord, problem: r.problem, verifier_key: r.verifierKey },
      };
    })
    // A GET that signs and appends a checkpoint when records arrived since the last one: it changes
    // state, so it is audited as a write, naming the checkpoint that now covers the log. SPEC.md
    // fixes the method; a POST would say what it does (and would not be repeated by a crawler).
    .add(
      'GET',
      '/audit/checkpoint',
      'audit',
      async ({ auditTarget }) => {
        await audit.checkpoint();
        const latest = await audit.latestCheckpoint();
        auditTarget(`checkpoint:${latest?.size ?? 0}`);
        return { status: 200, body: { verifier_key: audit.verifierKey, checkpoint: latest?.note ?? null } };
      },
      { changesState: true },
    )
    .add('GET', '/audit/export', 'audit', ({ operator }) => ({ status: 200, body: null, stream: { contentType: 'application/x-ndjson', chunks: audit.export(operator) } }));
}
