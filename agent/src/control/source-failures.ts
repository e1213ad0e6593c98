/**
 * Failed operator tokens per source address, as the control API uses them: this process's own
 * buckets (AuthFailures, a single node) or the ones every control-plane replica shares
 * (SharedAuthFailures, PostgreSQL). Either may answer at once or later.
 */
export interface SourceFailures {
  /** False when nothing has failed recently: the lookup is skipped. */
  readonly watching: boolean;
  retryAfterMs(source: string): number | Promise<number>;
  /** True when this failure locked the source out. */
  fail(source: string): boolean | Promise<boolean>;
  lockedOut(): { source: string; retryAfterMs: number }[] | Promise<{ source: string; retryAfterMs: number }[]>;
  clear(source: string): boolean | Promise<boolean>;
}
