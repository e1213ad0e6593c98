import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkProof, proveConsistency, proveInclusion, type ConsistencyDocument, type InclusionDocument } from '../audit/proofs.js';
import { loadLog, verifyAuditLog } from '../audit/verify.js';
import { AltraceError, UsageError } from '../errors.js';
import { CONTROL_OPTIONS, controlFetch, call, controlTarget, printer, type ControlTarget } from './client.js';

const HELP = `altrace audit — the tamper-evident audit log

Usage:
  altrace audit verify [--state-dir DIR] [--key VKEY]     check every record and signed checkpoint (offline)
  altrace audit verify --url URL                           check the log a running agent holds; against a fleet
                                                           control plane: every node's shipped log, naming gaps and forks
  altrace audit prove --index N [--size M]                 inclusion proof of record N in the checkpoint of size M (default: newest)
  altrace audit prove --from M [--to N]                    consistency proof between the checkpoints of sizes M and N
  altrace audit check FILE --key VKEY                      check a proof document with nothing but the verifier key
  altrace audit export                                     every record as JSON lines (control API)
  altrace audit list [--agent A] [--team T] [--reason R] [--limit N]   recent records (control API)

verify, prove and check read files, not the running agent: the state directory
(--state-dir, ALTRACE_STATE_DIR, default ./.altrace) holds audit/records.log,
audit/checkpoints.log and audit/verifier.key. VKEY is <name>+<key id>+<base64 key>;
pass the key you published rather than trusting the one on the same disk.
Exit codes: 0 verified, 1 verification failed, 2 usage error.
Options: --json, and for export/list --url URL, --token TOKEN.
`;

export async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'state-dir': { type: 'string' },
      key: { type: 'string' },
      index: { type: 'string' },
      size: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      agent: { type: 'string' },
      team: { type: 'string' },
      reason: { type: 'string' },
      limit: { type: 'string' },
      ...CONTROL_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = printer(values.json);
  const stateDir = values['state-dir'] ?? process.env.ALTRACE_STATE_DIR ?? '.altrace';
  const int = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} must be a non-negative integer`);
    return Number(v);
  };
  const [sub, file] = positionals;
  switch (sub) {
    case 'verify': {
      if (values.url !== undefined) return await verifyRemote(controlTarget(values), out);
      const r = verifyAuditLog(stateDir, values.key);
      out(
        { ok: r.ok, records: r.records, checkpoints: r.checkpoints, first_bad_record: r.firstBadRecord, problem: r.problem, verifier_key: r.verifierKey },
        r.ok
          ? `ok: ${r.records} records, ${r.checkpoints} signed checkpoints verify (${r.verifierKey})`
          : `FAILED at record ${r.firstBadRecord}: ${r.problem}`,
      );
      return r.ok ? 0 : 1;
    }
    case 'prove': {
      const log = loadLog(stateDir, values.key);
      const index = int(values.index, 'index');
      const from = int(values.from, 'from');
      if ((index === undefined) === (from === undefined)) throw new UsageError('prove needs --index N (inclusion) or --from M (consistency)');
      const doc = index !== undefined ? proveInclusion(log, index, int(values.size, 'size')) : proveConsistency(log, from!, int(values.to, 'to'));
      process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      return 0;
    }
    case 'check': {
      if (!file || !values.key) throw new UsageError('check needs a proof FILE and --key VKEY');
      let doc: InclusionDocument | ConsistencyDocument;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8')) as InclusionDocument | ConsistencyDocument;
      } catch (err) {
        throw new UsageError(`cannot read proof ${file}: ${(err as Error).message}`);
      }
      try {
        const what = checkProof(doc, values.key);
        out({ ok: true, result: what }, `ok: ${what}`);
        return 0;
      } catch (err) {
        if (!(err instanceof AltraceError)) throw err;
        out({ ok: false, problem: (err as Error).message }, `FAILED: ${(err as Error).message}`);
        return 1;
      }
    }
    case 'export': {
      const target = controlTarget(values);
      const res = await controlFetch(target, '/audit/export').catch((err: Error) => {
        throw new AltraceError('ALT_CONTROL_UNREACHABLE', `cannot reach the control API at ${target.url}: ${err.message}`);
      });
      if (!res.ok) throw new AltraceError('ALT_CONTROL_ERROR', `${res.status}: ${await res.text()}`);
      for await (const chunk of res.body!) process.stdout.write(chunk);
      return 0;
    }
    case 'list': {
      const q = new URLSearchParams();
      for (const f of ['agent', 'team', 'reason', 'limit'] as const) if (values[f]) q.set(f, values[f]!);
      const data = await call(controlTarget(values), 'GET', `/audit?${q}`);
      const rows = (data.records as { seq: number; time: string; principal?: { agent?: string }; decision?: { outcome: string; reason: string; stage?: string }; control?: { operator: string; action: string; status: number } }[]).map((r) =>
        r.decision
          ? `#${r.seq} ${r.time} ${r.principal?.agent ?? '-'} ${r.decision.outcome} ${r.decision.reason}${r.decision.stage ? ` @${r.decision.stage}` : ''}`
          : `#${r.seq} ${r.time} operator ${r.control?.operator} ${r.control?.action} → ${r.control?.status}`,
      );
      out(data, rows.length ? rows.join('\n') : '(no records)');
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (verify, prove, check, export, list)');
  }
}

interface RemoteLog {
  node: string;
  ok: boolean;
  records: number;
  signed_records: number;
  problem: string | null;
}

/** GET /audit/verify of an agent (its own log) or of a control plane (every node's, `logs`). */
async function verifyRemote(target: ControlTarget, out: (data: unknown, text: string) => void): Promise<number> {
  const r = (await call(target, 'GET', '/audit/verify')) as { ok: boolean; records: number; checkpoints: number; problem: string | null; first_bad_record: number | null; logs?: RemoteLog[] };
  const lines = r.logs
    ? [
        r.ok ? `ok: ${r.logs.length} node logs verify` : `FAILED: ${r.problem}`,
        ...r.logs.map((l) => `  ${l.ok ? 'ok    ' : 'FAILED'} ${l.node}: ${l.records} records, ${l.signed_records} under a verified checkpoint${l.problem ? ` — ${l.problem}` : ''}`),
      ]
    : [r.ok ? `ok: ${r.records} records, ${r.checkpoints} signed checkpoints verify` : `FAILED at record ${r.first_bad_record}: ${r.problem}`];
  out(r, lines.join('\n'));
  return r.ok ? 0 : 1;
}
