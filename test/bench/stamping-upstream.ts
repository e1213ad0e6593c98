// An OpenAI-compatible upstream for the outside latency bench (issue 25, item 1): each streamed
// fragment carries the moment it was written (epoch microseconds, performance.timeOrigin + now,
// the same clock in every process of the machine), so the client can tell how long the fragment
// took to reach it. Fragments are FRAGMENT_MS apart, FRAGMENTS per stream.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const FRAGMENTS = Number(process.env.STAMP_FRAGMENTS ?? 50);
const FRAGMENT_MS = Number(process.env.STAMP_FRAGMENT_MS ?? 20);
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    let i = 0;
    const send = () => {
      if (res.destroyed) return;
      if (i === FRAGMENTS) {
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model: 'gpt-4o-mini', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: FRAGMENTS, total_tokens: FRAGMENTS + 5 } })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      i++;
      // The stamp is the last thing made before the write: what the client measures is the way, not
      // the making. It rides in system_fingerprint, not in the text: digits in the text would look
      // like the start of a number the scanner must see whole, and be held for the next fragment.
      const chunk = { id, object: 'chat.completion.chunk', created: 0, model: 'gpt-4o-mini', system_fingerprint: `fp_t${nowUs()}`, choices: [{ index: 0, delta: { content: `word ${WORDS[i % WORDS.length]} ` }, finish_reason: null }] };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      setTimeout(send, FRAGMENT_MS);
    };
    send();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n'));
