import { parseArgs } from 'node:util';
import { APPROVAL_STATUSES } from '../services/approval-service.js';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, oneOf, printer } from './client.js';

const HELP = `altrace approvals — human approval gates

Usage:
  altrace approvals [list] [--status pending|approved|denied|expired|all] [--limit N]
  altrace approvals approve ID [--reason TEXT]
  altrace approvals deny ID [--reason TEXT]

A contract's approval gate (policies/contracts, "approvals:") holds a matching request, or a
tool call the model makes, until an operator decides. The agent's request waits (up to the
gate's timeout_s, then it is refused with ALT_APPROVAL_TIMEOUT); approved, it proceeds;
denied, the agent gets its provider's error with ALT_APPROVAL_DENIED. An MCP tool listed
unlike its pin, or new, opens one too (kind mcp-pin; no request waits): approved, the tool as it
reads now becomes its pin (docs/mcp.md, "Approving a change"). A decision is on disk
before it is acknowledged. Team tokens see and decide their own team's approvals only.
Options: --json, --url URL (control API), --token TOKEN (operator token; also ALTRACE_TOKEN,
else <state_dir>/admin.token).
`;

interface ApprovalView {
  id: string;
  status: string;
  agent: string;
  team: string;
  contract: string;
  rule: string;
  kind: string;
  subject: string;
  arguments: string | null;
  created: string;
  expires: string;
  decided_by: string | null;
  reason: string | null;
}

function line(a: ApprovalView): string {
  const what = a.kind === 'tool' ? `tool ${a.subject}${a.arguments ? ` ${a.arguments}` : ''}` : a.kind === 'mcp-pin' ? `pin ${a.subject}` : `model ${a.subject}`;
  const state = a.status === 'pending' ? `pending until ${a.expires}` : `${a.status}${a.decided_by ? ` by ${a.decided_by}` : ''}${a.reason ? `: ${a.reason}` : ''}`;
  return `${a.id}  ${a.agent} (${a.team})  ${what}  [${a.contract} ${a.rule}]  ${state}`;
}

export async function approvalsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { status: { type: 'string' }, limit: { type: 'string' }, reason: { type: 'string' }, ...CONTROL_OPTIONS },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = printer(values.json);
  const [sub = 'list', id] = positionals;
  if (sub === 'list') {
    const q = new URLSearchParams();
    if (values.status) q.set('status', oneOf(values.status, [...APPROVAL_STATUSES], '--status'));
    if (values.limit) q.set('limit', values.limit);
    const data = (await call(controlTarget(values), 'GET', `/approvals${q.size ? `?${q}` : ''}`)) as { approvals: ApprovalView[] };
    out(data, data.approvals.length ? data.approvals.map(line).join('\n') : `no ${values.status ?? 'pending'} approvals`);
    return 0;
  }
  if (sub !== 'approve' && sub !== 'deny') throw new UsageError(`unknown subcommand "${sub}" (list, approve, deny)`);
  if (!id) throw new UsageError(`${sub} needs an approval ID (altrace approvals list)`);
  const body = values.reason !== undefined ? { reason: values.reason } : {};
  const decided = (await call(controlTarget(values), 'POST', `/approvals/${encodeURIComponent(id)}/${sub}`, body)) as ApprovalView;
  out(decided, line(decided));
  return 0;
}
