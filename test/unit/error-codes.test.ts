import test from 'ava';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { agentErrorCodes, agentErrors, isAgentErrorCode } from '../../agent/src/error-codes.js';
import { AltraceError, ControlError, MethodNotAllowed, UsageError } from '../../agent/src/errors.js';
import { BPF_ERROR_CODES } from '../../agent/src/bpf/index.js';
import { call } from '../../agent/src/cli/client.js';
import { reasonCodes } from '../../proxy/src/index.js';

test('agent error codes are ALT_ + upper snake case, each with a meaning, an action, and an HTTP status or none', (t) => {
  for (const c of agentErrorCodes) {
    t.regex(c, /^ALT_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    const e = agentErrors[c];
    t.true(e.status === null || (e.status >= 400 && e.status < 600), c);
    t.true(e.meaning.length > 10, c);
    t.true(e.action.length > 5, c);
  }
});

// One code, two meanings is a reuse; these name the same cause on the control port as on the proxy.
test('the codes the agent shares with the proxy reason table are exactly the declared ones', (t) => {
  const shared = agentErrorCodes.filter((c) => (reasonCodes as readonly string[]).includes(c)).sort();
  t.deepEqual(shared, ['ALT_AUTH_THROTTLED', 'ALT_BODY_TOO_LARGE', 'ALT_JSON_TOO_DEEP', 'ALT_KEY_REVOKED', 'ALT_MALFORMED_JSON', 'ALT_METHOD_NOT_ALLOWED']);
});

test('a ControlError takes its status from the table', (t) => {
  t.is(new ControlError('ALT_AGENT_IN_OTHER_TEAM', 'taken', 'agent').status, 409);
  t.is(new ControlError('ALT_AUTH_THROTTLED', 'slow down', undefined, 3).status, 429);
  const e = new MethodNotAllowed('PATCH', '/api/v1/keys', ['GET', 'POST']);
  t.is(e.status, 405);
  t.is(e.code, 'ALT_METHOD_NOT_ALLOWED');
});

test('BPF_ERROR_CODES is the ALT_BPF_ rows of the table', (t) => {
  t.deepEqual(Object.keys(BPF_ERROR_CODES), agentErrorCodes.filter((c) => c.startsWith('ALT_BPF_')));
  t.is(BPF_ERROR_CODES.ALT_BPF_LOAD, agentErrors.ALT_BPF_LOAD.meaning);
});

test('isAgentErrorCode accepts the table and nothing else', (t) => {
  t.true(isAgentErrorCode('ALT_NOT_FOUND'));
  t.false(isAgentErrorCode('ALT_KILLED_AGENT'));
  t.false(isAgentErrorCode('toString'));
  t.false(isAgentErrorCode(404));
});

/** A control API stand-in that answers every call with one status and error body. */
async function refusing(status: number, error: unknown): Promise<{ url: string; close: () => void }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('the CLI relays a code the server sends and the table lists, as a usage error for a 400', async (t) => {
  const api = await refusing(400, { code: 'ALT_JSON_TOO_DEEP', message: 'too deep' });
  t.teardown(api.close);
  const err = await t.throwsAsync(call({ url: api.url, token: 'altop-x' }, 'GET', '/keys'), { instanceOf: UsageError });
  t.is(err.code, 'ALT_JSON_TOO_DEEP');
  t.is(err.message, '400: too deep');
});

test('a code the CLI does not know (a newer agent) is ALT_CONTROL_ERROR and stays in the message', async (t) => {
  const api = await refusing(409, { code: 'ALT_SOMETHING_NEWER', message: 'no' });
  t.teardown(api.close);
  const err = await t.throwsAsync(call({ url: api.url, token: 'altop-x' }, 'GET', '/keys'), { instanceOf: AltraceError });
  t.false(err instanceof UsageError);
  t.is(err.code, 'ALT_CONTROL_ERROR');
  t.is(err.message, '409: no (ALT_SOMETHING_NEWER)');
});
