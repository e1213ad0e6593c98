import { requestPattern, type RunTracker } from '../../enforcement/runs.js';
import { runOf } from '../context.js';
import type { RequestStage } from '../stage.js';
import { block, warn } from '../../core/verdict.js';

const ID = 'run-loop';

/** Run-loop detection: a run (x-altrace-run) that repeats one request is warned, blocked, then terminated. */
export function runLoop(runs: RunTracker, now: () => number = Date.now): RequestStage {
  return {
    id: ID,
    band: 'contract',
    side: 'request',
    summary: 'run-loop detection per x-altrace-run: repeats of one request are warned, then blocked, then the run is terminated',
    evaluate(ctx) {
      const runId = runOf(ctx.headers);
      if (!runId || !ctx.call || !ctx.principal || (ctx.call.messages.length === 0 && ctx.call.toolCalls.length === 0)) return null;
      const step = runs.step(ctx.principal.agent, runId, requestPattern(ctx.call), now());
      switch (step.kind) {
        case 'ok':
          return null;
        case 'warn':
          return warn(ID, 'ALT_RUN_LOOP_WARNING', `run ${runId}: the same request ${step.repeats} times`);
        case 'block':
          return block(ID, 'ALT_RUN_LOOP_BLOCKED', `run ${runId}: the same request ${step.repeats} times`);
        case 'terminate':
          return block(ID, 'ALT_RUN_TERMINATED', `run ${runId} terminated after the same request ${step.repeats} times`);
        case 'terminated':
          return block(ID, 'ALT_RUN_TERMINATED', `run ${runId} was terminated for looping`);
      }
    },
  };
}
