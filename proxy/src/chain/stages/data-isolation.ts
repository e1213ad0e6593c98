import type { ContentPolicy } from '../../policy/content.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { DataFlow } from '../../scan/data-flow.js';
import { runOf, type RequestContext } from '../context.js';
import type { RequestStage, ResponseStage } from '../stage.js';
import { block, warn } from '../../core/verdict.js';

const ID = 'data-isolation';
const RECORD_ID = 'data-flow-record';

/** Within a run (x-altrace-run, per agent): the key that data-flow labels are kept under. */
function runKey(ctx: RequestContext): string | null {
  const run = runOf(ctx.headers);
  if (run === null || !ctx.principal) return null;
  return `${ctx.principal.agent}\u0000${run}`;
}

function tracksFlow(p: ContentPolicy): boolean {
  return p.enabled && p.isolation.crossProvider !== 'allow';
}

function isRegulated(label: string): boolean {
  return label.startsWith('pii.') || label.startsWith('pci.');
}

/**
 * Cross-provider isolation, request side: regulated labels still in the request may only go
 * to the upstreams the policy approves, and, within a run, data another upstream saw or
 * produced may not be sent to this one (block or flag, `content.isolation`).
 */
export function dataIsolation(policy: PolicyHolder, flow: DataFlow): RequestStage {
  return {
    id: ID,
    band: 'content',
    side: 'request',
    summary: 'regulated labels only to approved upstreams; within a run, data one upstream saw or produced does not reach another',
    evaluate(ctx) {
      const content = policy.current.content;
      const call = ctx.call;
      if (!content.enabled || !call) return null;
      const approved = content.isolation.regulatedDestinations;
      if (approved && !approved.has(call.upstream)) {
        const regulated = [...(ctx.content?.outbound ?? [])].filter(isRegulated);
        if (regulated.length) return block(ID, 'ALT_DATA_ISOLATION', `${regulated.join(', ')} may not go to upstream ${call.upstream}`, `Send regulated data only to approved upstreams (${[...approved].join(', ')}), or remove it from the request.`);
      }
      const run = runKey(ctx);
      if (!run || !tracksFlow(content)) return null;
      const texts = [call.system, ...call.messages.map((m) => m.text), ...call.toolResults.map((r) => r.content)].filter((t) => t.length > 0);
      for (const text of texts) {
        const origin = flow.originOf(run, text, call.upstream);
        if (!origin) continue;
        const detail = `data ${origin} saw or produced in this run, sent to ${call.upstream}`;
        if (content.isolation.crossProvider === 'block') return block(ID, 'ALT_DATA_ISOLATION', detail);
        ctx.notes.push(warn(ID, 'ALT_CONTENT_FLAGGED', detail));
        break;
      }
      for (const text of texts) flow.record(run, call.upstream, text);
      return null;
    },
  };
}

/** Response side: what the upstream produced becomes its data in this run. Decides nothing. */
export function dataFlowRecord(policy: PolicyHolder, flow: DataFlow): ResponseStage {
  return {
    id: RECORD_ID,
    band: 'content',
    side: 'response',
    summary: 'records what each upstream produced in a run (sampled hashes), for data-isolation',
    open({ request, errorBody }) {
      // A provider's error message is not what its model produced.
      if (errorBody) return null;
      const run = runKey(request);
      const upstream = request.call?.upstream;
      // A tool's output is meant for the model the agent works with: MCP servers are not providers here.
      if (!run || !upstream || request.call!.mcp || !tracksFlow(policy.current.content)) return null;
      let produced = '';
      return {
        inspect(fragments) {
          for (const f of fragments) if (produced.length < 1 << 20) produced += f.text;
          return null;
        },
        close() {
          flow.record(run, upstream, produced);
          produced = '';
        },
      };
    },
  };
}
