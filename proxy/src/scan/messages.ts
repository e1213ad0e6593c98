// Every message that crosses to and from the scan workers, typed in one place.

export interface DenyPattern {
  id: string;
  pattern: string;
  flags: string;
}

export interface PatternSet {
  /** Changes whenever the list changes, so workers compile each list once. */
  version: string;
  patterns: DenyPattern[];
}

export interface ScanTask {
  set: PatternSet;
  /** The tail of the text already delivered on this stream, so a match split across fragments is found. */
  carry: string;
  texts: string[];
}

export interface ScanHit {
  /** Index into texts of the fragment in which the match completes. */
  index: number;
  patternId: string;
}

export type ScanResult = ScanHit | null;
