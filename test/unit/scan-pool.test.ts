import { join } from 'node:path';
import test from 'ava';
import { ScanPool } from '../../proxy/src/scan/pool.js';
import { loadDefaultDetectors } from '../../proxy/src/scan/detectors/engine.js';
import { ROOT } from '../helpers/process.js';

const rules = join(ROOT, 'policies/rules/gitleaks.toml');
const { set } = loadDefaultDetectors(rules);

// A scan that outgrows its worker's heap ends that worker: the task is refused (the chain turns
// that into ALT_STAGE_FAILED, fail closed), piscina starts a fresh worker, and scanning goes on.
test('a worker that dies is replaced; its task fails, the next one is served', async (t) => {
  const pool = new ScanPool({ threads: 1, secretRulesPath: rules, workerHeapMb: 32 });
  try {
    const small = { kind: 'detect' as const, setSize: set.detectors.length, items: [{ text: 'key AKIAZ3MHQ7NK2PW4XJ5T', detectors: null, families: ['secrets' as const] }] };
    // (Other rules may find the same key after "key"; the AWS rule must be among them.)
    const rules = async () => (await pool.detect(small))[0]!.map((f) => f.rule);
    t.true((await rules()).includes('aws-access-token'));
    // A million emails (7 MB of text) whose findings outgrow a 32 MB heap and the worker runs out of memory.
    const huge = { ...small, items: [{ text: 'x@y.co '.repeat(1_000_000), detectors: null, families: ['pii' as const] }] };
    const err = await t.throwsAsync(pool.detect(huge));
    t.regex(String((err as { code?: string }).code ?? err!.message), /ERR_WORKER_OUT_OF_MEMORY|out of memory|terminated/i);
    t.true((await rules()).includes('aws-access-token'), 'a new worker took its place');
  } finally {
    await pool.close();
  }
});
