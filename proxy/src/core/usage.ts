// Token usage as each provider reports it, read into one shape. A field a payload does not
// report stays undefined, so usage arriving over several stream events can be merged.

export interface ReportedUsage {
  input?: number;
  output?: number;
  /** Input tokens served from the provider's prompt cache (included in input). */
  cachedInput?: number;
}

/** Field-wise maximum: providers report cumulative counts, sometimes split over events. */
export function mergeReported(a: ReportedUsage | null, b: ReportedUsage | null): ReportedUsage | null {
  if (!a) return b;
  if (!b) return a;
  const out: ReportedUsage = { ...a };
  for (const f of ['input', 'output', 'cachedInput'] as const) {
    const v = b[f];
    if (v !== undefined) out[f] = Math.max(out[f] ?? 0, v);
  }
  return out;
}
