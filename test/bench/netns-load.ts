// `node dist/test/bench/netns-load.js BASE_URL KEY SECONDS CONNECTIONS`: the chat load of the
// other benches, run from wherever it is started (a pod's network namespace and cgroup, by
// backstop.ts), printing one JSON line: requests/s, p50, p99 (whole ms), errors.
import { load } from './common.js';

const [url, key, seconds, connections] = process.argv.slice(2);
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from the pod' }], max_tokens: 16 });
const r = await load(url!, { authorization: `Bearer ${key}` }, body, { connections: Number(connections), seconds: Number(seconds) });
console.log(JSON.stringify(r));
