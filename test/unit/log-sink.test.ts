import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const sink = fileURLToPath(new URL('../../proxy/src/log-sink.js', import.meta.url));

// Lines written faster than the pipe drains are batched, kept in order, and the ones still
// pending when the process exits are written before it goes.
test('every line reaches stdout in order, including those pending at exit', (t) => {
  const script = `
    import { LogSink } from ${JSON.stringify(sink)};
    const s = new LogSink(1);
    for (let i = 0; i < 20000; i++) s.write(JSON.stringify({ i, pad: 'x'.repeat(100) }) + '\\n');
    setImmediate(() => { for (let i = 20000; i < 20100; i++) s.write(JSON.stringify({ i }) + '\\n'); process.exit(0); });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines.length, 20100);
  lines.forEach((l, i) => {
    if ((JSON.parse(l) as { i: number }).i !== i) t.fail(`line ${i} out of order: ${l.slice(0, 40)}`);
  });
});
