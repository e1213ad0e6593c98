import test from 'ava';
import OpenAI from 'openai';
import { TestClock, WEEKDAY_NOON } from '../helpers/clocks.js';
import { startHarness, type Harness } from '../helpers/harness.js';

// The decider seam (docs/scaling.md): an agent whose decisions cross as the multi-loop
// messages — a view without the body or the key, loop stages asked for at their place in the
// order, a reply, settlement where the charge was reserved — decides every request exactly as
// an agent that runs the chain in process. Each scenario runs on both, side by side.

const seams = ['direct', 'copied'] as const;
const agents = new Map<(typeof seams)[number], Harness>();

test.before(async () => {
  for (const seam of seams) agents.set(seam, await startHarness({}, { clock: new TestClock(WEEKDAY_NOON).now, seam }));
});
test.after.always(async () => {
  for (const h of agents.values()) await h.close();
});

// gpt-4o-mini in policies/prices.yaml: USD per million tokens.
const IN = 0.15;
const OUT = 0.6;
const EMAIL = 'dana.whitfield@corp.example';
const GITHUB_TOKEN = 'ghp_' + 'R8c2LmQ9vX4kT7wZ1pN6sJ3hB5dF0gYaEu2i';

interface Outcome {
  status: number;
  reason: string | null;
  stage: string | null;
  warning: string | null;
  /** What the provider received as the user's message, when it was called. */
  upstreamText: string | null;
}

/** One chat request, raw (so a refusal's headers are read as sent), and what it came to. */
async function ask(h: Harness, key: string, content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Outcome> {
  const before = h.sim.count();
  const res = await fetch(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content }], ...extra }),
  });
  await res.arrayBuffer();
  const called = h.sim.count() > before;
  const body = called ? (h.sim.last()!.body as { messages: { content: string }[] }) : null;
  return {
    status: res.status,
    reason: res.headers.get('x-altrace-reason'),
    stage: res.headers.get('x-altrace-stage'),
    warning: res.headers.get('x-altrace-warning'),
    upstreamText: body ? body.messages[0]!.content : null,
  };
}

/** Runs a scenario on both agents and returns the two outcomes, direct first. */
async function onBoth<T>(scenario: (h: Harness) => Promise<T>): Promise<[T, T]> {
  const out: T[] = [];
  for (const seam of seams) out.push(await scenario(agents.get(seam)!));
  return out as [T, T];
}

test.serial('personal data is redacted in the loop and the budget reserves on the body as forwarded', async (t) => {
  const [direct, copied] = await onBoth(async (h) => {
    const { key } = await h.createKey({ agent: 'scribe', team: 'support' });
    t.is((await h.control('PUT', '/budgets/agent/scribe', { daily: 1 })).status, 200);
    const outcome = await ask(h, key, `write to ${EMAIL} about the invoice`);
    const spend = (await (await h.control('GET', '/spend?by=agent')).json()) as { rows: { agent: string; usd: number }[] };
    return { outcome, spent: spend.rows.find((r) => r.agent === 'scribe')?.usd ?? null };
  });
  t.is(direct.outcome.status, 200);
  t.false(direct.outcome.upstreamText!.includes(EMAIL), 'the provider got the address masked');
  t.regex(direct.outcome.warning!, /ALT_CONTENT_REDACTED/);
  t.deepEqual(copied, direct);
  t.true(typeof copied.spent === 'number' && copied.spent > 0, 'the charge settled where it was reserved');
});

test.serial('a killed agent is refused by the kill switch before its prompt is scanned, as in the declared order', async (t) => {
  const [direct, copied] = await onBoth(async (h) => {
    const { key } = await h.createKey({ agent: 'rogue', team: 'ops' });
    const secret = await ask(h, key, `export TOKEN=${GITHUB_TOKEN}`);
    t.is((await h.control('POST', '/kill', { scope: 'agent', target: 'rogue' })).status, 201);
    const killed = await ask(h, key, `export TOKEN=${GITHUB_TOKEN}`);
    return { secret, killed };
  });
  t.is(direct.secret.reason, 'ALT_CONTENT_SECRET');
  t.is(direct.secret.stage, 'content-request');
  t.is(direct.killed.reason, 'ALT_KILLED_AGENT');
  t.deepEqual(copied, direct);
});

test.serial('keys: unknown, revoked and a real provider key are refused alike; the key never crosses, its hash does', async (t) => {
  const [direct, copied] = await onBoth(async (h) => {
    const { key, id } = await h.createKey({ agent: 'spare', team: 'ops' });
    const ok = await ask(h, key, 'hello');
    t.is((await h.control('DELETE', `/keys/${id}`)).status, 200);
    return {
      ok,
      revoked: await ask(h, key, 'hello'),
      unknown: await ask(h, 'alt-' + 'x'.repeat(40), 'hello'),
      real: await ask(h, 'sk-proj-' + 'a'.repeat(40), 'hello'),
    };
  });
  t.is(direct.ok.status, 200);
  t.deepEqual([direct.revoked.reason, direct.unknown.reason, direct.real.reason], ['ALT_KEY_REVOKED', 'ALT_KEY_UNKNOWN', 'ALT_REAL_KEY_REJECTED']);
  t.deepEqual(copied, direct);
});

test.serial('near a budget limit the decider asks the loop for the body and counts it exactly: admitted, then refused', async (t) => {
  // Many bytes, few tokens: the byte bound does not fit the budget, the exact count does.
  const content = 'hello '.repeat(400);
  const bytes = Buffer.byteLength(JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content }] }));
  const byteBoundUsd = (bytes * IN + 20 * OUT) / 1e6;
  const [direct, copied] = await onBoth(async (h) => {
    const { key } = await h.createKey({ agent: 'counter', team: 'ops' });
    t.is((await h.control('PUT', '/budgets/agent/counter', { daily: byteBoundUsd / 2 })).status, 200);
    const admitted = await ask(h, key, content);
    t.is((await h.control('PUT', '/budgets/agent/counter', { daily: (20 * OUT) / 1e6 })).status, 200);
    const refused = await ask(h, key, content);
    return { admitted, refused };
  });
  t.is(direct.admitted.status, 200, 'the exact count fits where the byte bound does not');
  t.is(direct.refused.reason, 'ALT_BUDGET_EXCEEDED');
  t.deepEqual(copied, direct);
});

test.serial('one run: the same request repeated is warned, then refused, on the decider that saw every step', async (t) => {
  const [direct, copied] = await onBoth(async (h) => {
    const { key } = await h.createKey({ agent: 'looper', team: 'ops' });
    const steps: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      const o = await ask(h, key, 'retry the same thing', {}, { 'x-altrace-run': 'run-seam-1' });
      steps.push(o.reason ?? o.warning);
    }
    return steps;
  });
  t.true(direct.includes('ALT_RUN_LOOP_WARNING') && direct.includes('ALT_RUN_LOOP_BLOCKED'), direct.join(' '));
  t.deepEqual(copied, direct);
});
