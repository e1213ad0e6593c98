// `npm run bench` (MCP part): what checking a tools/list answer costs, in process, for a server of
// 100 tools — pinning (two digests per tool against the policy's pins) and description scanning
// (the injection and secret detectors over the answer's text, as the response stage runs them).
import { join } from 'node:path';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import { mcpToolPins } from '../../proxy/src/chain/stages/mcp-tool-pins.js';
import { mcpToolDescriptions } from '../../proxy/src/chain/stages/mcp-tool-descriptions.js';
import { ApprovedPins } from '../../proxy/src/mcp-trust/approved-pins.js';
import { emptyCall } from '../../proxy/src/core/call-view.js';
import { toolDigests } from '../../proxy/src/mcp-trust/tool-digest.js';
import { ChangedTools, ListedTools } from '../../proxy/src/mcp-trust/tool-state.js';
import { compilePolicy, PolicyHolder } from '../../proxy/src/policy/policy.js';
import { loadDefaultDetectors } from '../../proxy/src/scan/detectors/engine.js';
import { ROOT } from '../helpers/process.js';
import { f, pct } from './common.js';

const tools = Array.from({ length: 100 }, (_, i) => ({
  name: `tool_${i}`,
  description: `Looks up records of kind ${i} by id and returns them with their history. Use list_kinds first to find the kind.`,
  inputSchema: { type: 'object', properties: Object.fromEntries(Array.from({ length: 6 }, (_, k) => [`p${k}`, { type: 'string', description: `parameter ${k}: the value to filter on` }])), required: ['p0'] },
  annotations: { readOnlyHint: true },
}));
const pins = Object.fromEntries(tools.map((t) => [t.name, (({ model, structure }) => ({ model, structure, read_only: true }))(toolDigests(t))]));
const policy = new PolicyHolder(compilePolicy({ version: 1, mcp: { servers: { tools: { tools: pins } } } }, 'bench'));
const stage = mcpToolPins(policy, new ChangedTools(), new ApprovedPins(), new ListedTools());
// An unpinned server's list, held against another server's 100 names listed to the same agent first.
const listed = new ListedTools();
listed.record('bench-agent', 'records', Array.from({ length: 100 }, (_, i) => `fetch_record_${i}`));
const unpinned = mcpToolPins(new PolicyHolder(compilePolicy({ version: 1 }, 'bench')), new ChangedTools(), new ApprovedPins(), listed);
const { set } = loadDefaultDetectors(join(ROOT, 'policies/rules/gitleaks.toml'));
const request = { call: { ...emptyCall('mcp', 'mcp:tools', 'mcp'), mcp: { server: 'tools', batch: false, messages: [{ id: 1, method: 'tools/list' }] } }, notes: [] } as unknown as RequestContext;
const freeRequest = { call: { ...emptyCall('mcp', 'mcp:free', 'mcp'), mcp: { server: 'free', batch: false, messages: [{ id: 1, method: 'tools/list' }] } }, principal: { keyId: 'k', agent: 'bench-agent', team: 'bench' }, notes: [] } as unknown as RequestContext;

function measure(label: string, run: (list: unknown[]) => void): void {
  const times: number[] = [];
  for (let r = 0; r < 600; r++) {
    // Each answer parsed afresh, as it arrives: no object is reused between lists.
    const list = JSON.parse(JSON.stringify(tools)) as unknown[];
    const t0 = performance.now();
    run(list);
    if (r >= 100) times.push(performance.now() - t0);
  }
  process.stdout.write(`  ${label.padEnd(44)} p50 ${f(pct(times, 0.5), 3)} ms  p99 ${f(pct(times, 0.99), 3)} ms\n`);
}

process.stdout.write('tools/list of 100 tools, in process (target: pinning and scanning ≤ 1 ms p99 added):\n');
measure('pinning (digests against pins)', (list) => {
  const inspector = stage.open({ request, streaming: false, maskable: false })!;
  if (inspector.inspect([{ text: '', outcomes: [{ id: 1, failed: false, tools: list }] }])) throw new Error('the pinned list was refused');
});
measure('shadowing (unpinned, against 100 listed)', (list) => {
  const inspector = unpinned.open({ request: freeRequest, streaming: false, maskable: false })!;
  if (inspector.inspect([{ text: '', outcomes: [{ id: 1, failed: false, tools: list }] }])) throw new Error('the unpinned list was refused');
});
const descriptions = mcpToolDescriptions(new PolicyHolder(compilePolicy({ version: 1 }, 'bench')), set);
measure('description scanning (stage mcp-tool-descriptions)', (list) => {
  const inspector = descriptions.open({ request, streaming: false, maskable: false })!;
  if (inspector.inspect([{ text: '', outcomes: [{ id: 1, failed: false, tools: list }] }])) throw new Error('the honest list was refused');
});
