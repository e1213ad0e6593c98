// Every message that crosses to and from the scan workers, typed in one place.
import type { Family, Finding } from './detectors/types.js';
import type { ClassifierSpec } from './classifier/classifier.js';

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
  kind: 'patterns';
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

/**
 * Content detectors over texts. The event loop already ran the keyword prefilter and names,
 * per text, the detectors worth running (indices into the shared DetectorSet, which both
 * sides load from the same rule file; `setSize` guards against a mismatch).
 */
export interface DetectTask {
  kind: 'detect';
  setSize: number;
  /** `detectors` null: the text was too long for the event loop, the worker runs the prefilter for `families`. */
  items: { text: string; detectors: readonly number[] | null; families?: Family[] }[];
}

/** Findings per item, offsets into that item's text. */
export type DetectResult = Finding[][];

/** A declared classifier over texts; the worker loads the model once per spec version. */
export interface ClassifyTask {
  kind: 'classify';
  classifier: ClassifierSpec;
  texts: string[];
}

/** One score per text, 0..1. */
export type ClassifyResult = number[];

export type WorkerTask = ScanTask | DetectTask | ClassifyTask;
export type WorkerResult = ScanResult | DetectResult | ClassifyResult;

/** What every scan worker is started with. */
export interface ScanWorkerData {
  /** The gitleaks rule file (policies/rules/gitleaks.toml). */
  secretRulesPath: string;
}
