// Piscina entry: deny-pattern scanning off the event loop, so a costly pattern stalls a worker, not the proxy.
import { compilePatterns, scanTexts, type CompiledPattern } from './match.js';
import type { ScanResult, ScanTask } from './messages.js';

export const CARRY_LIMIT = 256;

let compiledVersion = '';
let compiled: CompiledPattern[] = [];

export default function scan(task: ScanTask): ScanResult {
  if (task.set.version !== compiledVersion) {
    compiled = compilePatterns(task.set.patterns);
    compiledVersion = task.set.version;
  }
  return scanTexts(compiled, task, CARRY_LIMIT);
}
