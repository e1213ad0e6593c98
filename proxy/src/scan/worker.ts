// Piscina entry: deny patterns and content detectors off the event loop, so a costly scan stalls a worker, not the proxy.
import { workerData } from 'node:worker_threads';
import { loadDefaultDetectors, type DetectorSet } from './detectors/engine.js';
import { compilePatterns, scanTexts, type CompiledPattern } from './match.js';
import { Classifier, classifierKey } from './classifier/classifier.js';
import type { ClassifyResult, ClassifyTask, DetectResult, DetectTask, ScanResult, ScanTask, ScanWorkerData, WorkerResult, WorkerTask } from './messages.js';

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

// Loaded once per model version; a policy that names another version (a replaced file) loads it afresh.
const classifiers = new Map<string, Promise<Classifier>>();

async function classify(task: ClassifyTask): Promise<ClassifyResult> {
  const spec = task.classifier;
  const key = classifierKey(spec);
  let loading = classifiers.get(key);
  if (!loading) {
    for (const [k, old] of classifiers) {
      if (k.startsWith(`${spec.id}\0`)) {
        classifiers.delete(k);
        void old.then((c) => c.close()).catch(() => {});
      }
    }
    loading = Classifier.load(spec);
    // A model that failed to load is tried again by the next task, not cached as a failure.
    loading.catch(() => classifiers.delete(key));
    classifiers.set(key, loading);
  }
  return (await loading).score(task.texts);
}

export default function scan(task: WorkerTask): WorkerResult | Promise<WorkerResult> {
  if (task.kind === 'classify') return classify(task);
  return task.kind === 'detect' ? detect(task) : patterns(task);
}
