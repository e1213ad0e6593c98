// A regression test for what the outside latency bench found (issue 25): the data-plane
// listeners accept on a plain TCP server and hand sockets to the HTTP servers, so the HTTP
// servers' no-delay default never applied. With Nagle's algorithm on, each small write after
// the first waited in the kernel for the agent's delayed ACK of the one before: 20–40 ms a
// fragment once a connection had settled into keep-alive, where the upstream had sent the next
// fragments 2 ms apart. Measured against the same streams taken straight from the simulator.
import test from 'ava';
import { Agent, request } from 'undici';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let key: string;

test.before(async () => {
  h = await startHarness();
  key = (await h.createKey({ agent: 'nagle', team: 'qa' })).key;
});
test.after.always(async () => h?.close());

const STREAMS = 12;
const FRAGMENTS = ['one ', 'two ', 'three ', 'four ', 'five ', 'six ', 'seven ', 'eight '];

/** The longest wait between two consecutive chunks of each of STREAMS streams, one keep-alive connection. */
async function longestGaps(url: string, headers: Record<string, string>): Promise<number[]> {
  const dispatcher = new Agent({ connections: 1, keepAliveTimeout: 30_000 });
  const gaps: number[] = [];
  try {
    for (let i = 0; i < STREAMS; i++) {
      h.sim.next({ fragments: FRAGMENTS, fragmentDelayMs: 2 });
      const res = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count' }] }),
      });
      let last = 0;
      let longest = 0;
      let text = '';
      for await (const chunk of res.body) {
        const now = performance.now();
        if (last) longest = Math.max(longest, now - last);
        last = now;
        text += chunk;
      }
      if (res.statusCode !== 200 || !text.includes('eight')) throw new Error(`stream ${i}: ${res.statusCode} ${text.slice(0, 200)}`);
      gaps.push(longest);
    }
  } finally {
    await dispatcher.close();
  }
  return gaps;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('a streamed fragment is written at once, not held for the agent to acknowledge the one before (TCP_NODELAY)', async (t) => {
  const direct = median(await longestGaps(`${h.sim.url}/v1/chat/completions`, { authorization: 'Bearer sk-sim-openai-REAL-0001' }));
  const proxied = median(await longestGaps(`${h.proxyUrl}/v1/chat/completions`, { authorization: `Bearer ${key}` }));
  t.log(`median longest gap between fragments sent 2 ms apart: direct ${direct.toFixed(1)} ms, through the proxy ${proxied.toFixed(1)} ms`);
  // A delayed ACK is 20 ms or more on Linux; a fragment written at once comes within a few ms of direct.
  t.true(proxied < direct + 12, `through the proxy the longest gap was ${proxied.toFixed(1)} ms against ${direct.toFixed(1)} ms direct`);
});
