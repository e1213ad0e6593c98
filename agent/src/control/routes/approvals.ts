import { approvalView, type ApprovalService } from '../../services/approval-service.js';
import { ControlError } from '../../errors.js';
import type { ControlReply, ControlRequest, ControlRoutes } from '../router.js';

function limitOf(q: URLSearchParams): number {
  const raw = q.get('limit');
  const n = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ControlError('ALT_INVALID_FIELD', 'limit must be an integer from 1 to 1000', 'limit');
  return n;
}

/** Names the approval before deciding it: its agent only once the caller may see it (another team's is unknown). */
async function decide(approvals: ApprovalService, { operator, params, body, auditTarget }: ControlRequest, decision: 'approved' | 'denied'): Promise<ControlReply> {
  auditTarget(`approval:${params.id}`);
  const asked = await approvals.get(operator, params.id!);
  // An MCP pin review approved is a pin change: the audit record says which tool, as what.
  auditTarget(`approval:${params.id} agent:${asked.agent}${asked.kind === 'mcp-pin' ? ` ${decision === 'approved' ? 'pins' : 'refuses'} ${asked.subject}` : ''}`);
  return { status: 200, body: approvalView(await approvals.decide(operator, params.id!, decision, await body()), null) };
}

export function approvalRoutes(routes: ControlRoutes, approvals: ApprovalService): void {
  routes
    .add('GET', '/approvals', 'approvals', async ({ operator, query }) => ({
      status: 200,
      body: { approvals: (await approvals.list(operator, query.get('status'), limitOf(query))).map((r) => approvalView(r, approvals.argumentsOf(r.id))) },
    }))
    .add('GET', '/approvals/:id', 'approvals', async ({ operator, params }) => {
      const r = await approvals.get(operator, params.id!);
      const pin = r.kind === 'mcp-pin' ? await approvals.pinProposal(r.id) : null;
      return { status: 200, body: { ...approvalView(r, approvals.argumentsOf(r.id)), ...(pin ? { pin } : {}) } };
    })
    .add('POST', '/approvals/:id/approve', 'approve', (r) => decide(approvals, r, 'approved'))
    .add('POST', '/approvals/:id/deny', 'approve', (r) => decide(approvals, r, 'denied'));
}
