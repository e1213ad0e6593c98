// What a detector is and what it reports. Findings carry offsets and rule ids, never the text.
import type { Gate } from './gates.js';

/**
 * Which detectors a scan runs: secrets and regulated data everywhere, injection on untrusted content;
 * `tool-definitions`: rules for what an MCP tool's definition tells the model (run this command, call that tool first), which ordinary documents say too.
 */
export type Family = 'secrets' | 'pii' | 'injection' | 'tool-definitions';

/** The sensitive part of a match, as offsets into the scanned text (what redaction replaces). */
export interface Span {
  start: number;
  end: number;
}

export interface Detector {
  /** Stable rule id, recorded in audit records (e.g. `aws-access-token`, `pci-card`). */
  readonly id: string;
  /** Data-classification label the policy acts on (e.g. `secret`, `pci.card`, `injection.override`). */
  readonly label: string;
  readonly family: Family;
  /** Lower-case literals one of which every match contains; empty means the detector always runs. */
  readonly keywords: readonly string[];
  /** A cheap test a text must pass (once one of its keywords occurs, if it has any) before find() is worth running. */
  readonly gate?: Gate;
  find(text: string): Span[];
}

export interface Finding extends Span {
  rule: string;
  label: string;
  family: Family;
}
