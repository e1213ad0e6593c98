// Piscina entry: deny patterns and content detectors off the event loop, so a costly scan stalls a worker, not the proxy.
import { workerData } from 'node:worker_threads';
import { loadDefaultDetectors, type DetectorSet } from './detectors/engine.js';
import { compilePatterns, scanTexts, type CompiledPattern } from './match.js';
import type { DetectResult, DetectTask, ScanResult, ScanTask, ScanWorkerData, WorkerResult, WorkerTask } from './messages.js';

export const CARRY_LIMIT = 256;

let compiledVersion = '';
let compiled: CompiledPattern[] = [];
let detectors: DetectorSet | null = null;

function patterns(task: ScanTask): ScanResult {
  if (task.set.version !== compiledVersion) {
    compiled = compilePatterns(task.set.patterns);
    compiledVersion = task.set.version;
  }
  return scanTexts(compiled, task, CARRY_LIMIT);
}

function detect(task: DetectTask): DetectResult {
  detectors ??= loadDefaultDetectors((workerData as ScanWorkerData).secretRulesPath).set;
  if (detectors.detectors.length !== task.setSize) throw new Error(`scan worker has ${detectors.detectors.length} detectors, the proxy ${task.setSize}`);
  return task.items.map((item) => detectors!.run(item.text, item.detectors ?? detectors!.candidates(item.text, new Set(item.families ?? []))));
}

export default function scan(task: WorkerTask): WorkerResult {
  return task.kind === 'detect' ? detect(task) : patterns(task);
}
