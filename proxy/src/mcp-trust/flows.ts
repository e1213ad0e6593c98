// Toxic flows across MCP tools (issue 23): content nobody vetted, then private data, then a public
// sink, in one run, is how an injected instruction turns into a leak. Each tool carries labels —
// from its pin in the policy, or inferred from its name by the heuristics below — and each run
// remembers which labels its returned calls had, for a window.

export const FLOW_LABELS = ['untrusted_content', 'private_data', 'public_sink', 'destructive'] as const;
export type FlowLabel = (typeof FLOW_LABELS)[number];

/**
 * Labels from a tool's name, word by word (`fetch_page` → fetch, page). Documented in docs/mcp.md;
 * a tool the heuristics misjudge gets its labels in its pin.
 */
const HEURISTICS: [FlowLabel, RegExp][] = [
  ['untrusted_content', /^(?:fetch|browse|scrape|crawl|search|web|url|page|download|read_email|read_emails|get_email|get_emails|inbox|issue|issues|comments?|rss|feed|tweets?)$/],
  ['private_data', /^(?:read_file|file|files|query|sql|db|database|customer|customers|account|accounts|secret|secrets|credential|credentials|contacts?|calendar|drive|documents?|records?|crm|salary|payroll|memory|notes?)$/],
  ['public_sink', /^(?:send|post|publish|upload|share|email|mail|tweet|comment|webhook|http|request|slack|message|create_issue|pr|gist|paste)$/],
  ['destructive', /^(?:delete|drop|remove|destroy|wipe|purge|truncate|kill|terminate|reset|rm)$/],
];

const inferred = new Map<string, FlowLabel[]>();

/** Memoised: a tool's name is read on every call of it, on both sides of the chain. */
export function inferredLabels(tool: string): FlowLabel[] {
  let labels = inferred.get(tool);
  if (!labels) {
    labels = labelsFromName(tool);
    if (inferred.size >= 4096) inferred.clear();
    inferred.set(tool, labels);
  }
  return labels;
}

function labelsFromName(tool: string): FlowLabel[] {
  const words = tool.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const pairs = words.slice(1).map((w, i) => `${words[i]}_${w}`);
  const tokens = [...words, ...pairs];
  return HEURISTICS.filter(([, re]) => tokens.some((t) => re.test(t))).map(([label]) => label);
}

interface Seen {
  /** The call's id, where it has one: a call the history shows again is not counted twice. */
  id?: string;
  tool: string;
  labels: readonly FlowLabel[];
  at: number;
}

/** Per run (x-altrace-run, else the agent), the labelled calls that returned, within the window. */
export class ToolFlows {
  readonly #runs = new Map<string, Seen[]>();

  /** The window is read at each use: a reloaded policy's window applies at once. */
  constructor(private readonly window: () => number) {}

  record(run: string, tool: string, labels: readonly FlowLabel[], now: number, id?: string): void {
    if (labels.length === 0) return;
    const seen = this.#live(run, now);
    if (id !== undefined && seen.some((s) => s.id === id)) return;
    seen.push(id === undefined ? { tool, labels, at: now } : { id, tool, labels, at: now });
    // A bound per run: the oldest calls drop first; what is older than the window is gone anyway.
    if (seen.length > 256) seen.splice(0, seen.length - 256);
    this.#runs.set(run, seen);
    if (this.#runs.size > 10_000) this.#sweep(now);
  }

  /** Runs nobody asked about since their window closed. */
  #sweep(now: number): void {
    for (const [run, seen] of this.#runs) if (now - seen[seen.length - 1]!.at > this.window()) this.#runs.delete(run);
  }

  /** The earlier calls that make a public sink toxic now: one that brought untrusted content and one that read private data. */
  toxicBefore(run: string, now: number): { untrusted: string; privateData: string } | null {
    const seen = this.#live(run, now);
    const untrusted = seen.findLast((s) => s.labels.includes('untrusted_content'));
    const privateData = seen.findLast((s) => s.labels.includes('private_data'));
    return untrusted && privateData ? { untrusted: untrusted.tool, privateData: privateData.tool } : null;
  }

  #live(run: string, now: number): Seen[] {
    const seen = (this.#runs.get(run) ?? []).filter((s) => now - s.at <= this.window());
    if (seen.length === 0) this.#runs.delete(run);
    return seen;
  }
}
