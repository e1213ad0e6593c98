import type { Finding } from '../../scan/detectors/types.js';
import type { RequestContext } from '../context.js';

/** Adds a finding's label and rule id to what the audit record will carry (never the matched text). */
export function recordLabels(ctx: RequestContext, f: Pick<Finding, 'label' | 'rule'>): void {
  ctx.content ??= { labels: new Set(), rules: new Set(), outbound: new Set() };
  ctx.content.labels.add(f.label);
  ctx.content.rules.add(f.rule);
}
