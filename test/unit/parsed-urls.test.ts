import test from 'ava';
import { ParsedUrls } from '../../proxy/src/pipeline/parsed-urls.js';
import { upstreamUrl } from '../../proxy/src/upstream/upstreams.js';

test('a path without a query is parsed once and parsed as WHATWG URL parses it', (t) => {
  const urls = new ParsedUrls('http://proxy.invalid');
  const first = urls.get('/v1/chat/completions');
  t.is(urls.get('/v1/chat/completions'), first);
  for (const target of ['/v1/chat/completions', '/v1/../v1/models', '/v1beta/models/gemini-2.0-flash:generateContent', '/mcp/docs%2Dserver']) {
    t.is(urls.get(target).href, new URL(target, 'http://proxy.invalid').href, target);
  }
});

test('regression: a target starting with // stays a path on this host (WHATWG alone reads //v1//x as host v1)', (t) => {
  const urls = new ParsedUrls('http://proxy.invalid');
  const url = urls.get('//v1//x');
  t.is(url.host, 'proxy.invalid');
  t.is(url.pathname, '//v1//x');
});

// A query may carry a key (Gemini's ?key=): it must not outlive its request in a cache.
test('a target with a query is parsed every time and never kept', (t) => {
  const urls = new ParsedUrls('http://proxy.invalid');
  const a = urls.get('/v1beta/models/m:generateContent?key=alt-secret');
  const b = urls.get('/v1beta/models/m:generateContent?key=alt-secret');
  t.not(a, b);
  t.is(a.searchParams.get('key'), 'alt-secret');
});

test('the cache is bounded: distinct paths past the limit start it afresh', (t) => {
  const urls = new ParsedUrls('http://proxy.invalid', 4);
  const kept = urls.get('/a');
  for (const p of ['/b', '/c', '/d']) urls.get(p);
  t.is(urls.get('/a'), kept);
  urls.get('/e'); // the fifth distinct path clears the cache
  t.not(urls.get('/a'), kept);
  t.is(urls.get('/a').pathname, '/a');
});

test('upstream URLs are shared per upstream and path, and stay each upstream’s own', (t) => {
  const openai = { name: 'openai', kind: 'openai' as const, base: new URL('https://api.openai.com/v1/'), credentialRequired: true, models: [] };
  const local = { ...openai, name: 'local', base: new URL('http://127.0.0.1:11434/v1') };
  t.is(upstreamUrl(openai, '/chat/completions'), upstreamUrl(openai, '/chat/completions'));
  t.is(upstreamUrl(openai, '/chat/completions').href, 'https://api.openai.com/v1/chat/completions');
  t.is(upstreamUrl(local, '/chat/completions').href, 'http://127.0.0.1:11434/v1/chat/completions');
  t.not(upstreamUrl(openai, '/x?api-version=1'), upstreamUrl(openai, '/x?api-version=1'));
});
