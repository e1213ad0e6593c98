// Node enrollment with the node's service-account token: a TokenReview through the real
// @kubernetes/client-node against the stand-in API server decides, for the allowed accounts and
// the projected audience only; enrollment tokens keep going their own way.
import test from 'ava';
import { EitherVerifier, TokenReviewVerifier } from '../../agent/src/kube/token-review.js';
import { startStandIn } from '../helpers/kube.js';

const logs: string[] = [];
const logger = { trace() {}, debug() {}, info() {}, warn: (o: unknown, m: string) => void logs.push(`${m} ${JSON.stringify(o)}`), error() {}, fatal() {}, child() { return logger; } } as never;

test('only the allowed service account, for the projected audience, with a live token, enrolls', async (t) => {
  const { api, kubeConfig: kc } = await startStandIn(t);
  const verifier = new TokenReviewVerifier(kc, ['altrace-system/altrace-agent'], 'altrace', logger);

  const node = api.issueServiceAccountToken('altrace-system', 'altrace-agent', { audiences: ['altrace'], pod: 'altrace-agent-x7k2p' });
  t.deepEqual(await verifier.verify(node), { admittedBy: 'serviceaccount:altrace-system/altrace-agent pod altrace-agent-x7k2p' });
  t.is(await verifier.verify(api.issueServiceAccountToken('default', 'default', { audiences: ['altrace'] })), null, 'another service account');
  t.true(logs.some((l) => l.includes('default/default')), 'and it is logged');
  t.is(await verifier.verify(api.issueServiceAccountToken('altrace-system', 'altrace-agent', { audiences: ['https://kubernetes.default.svc'] })), null, 'a token for the API server, not for Altrace');
  api.expireToken(node);
  t.is(await verifier.verify(node), null, 'an expired token');
  t.is(await verifier.verify('aaaa.bbbb.cccc'), null, 'a token the cluster never issued');
  t.is(api.counts.reviews, 5);
  await api.close();
  t.is(await verifier.verify(api.issueServiceAccountToken('altrace-system', 'altrace-agent', { audiences: ['altrace'] })), null, 'the API server unreachable: refused');

  // Beside enrollment tokens: a JWT goes to the API server, anything else to the tokens.
  const asked: string[] = [];
  const either = new EitherVerifier({ verify: async (c) => (asked.push(c), { admittedBy: 'enrollment-token:t1' }) }, verifier);
  t.deepEqual(await either.verify('altnode_abcdef0123456789'), { admittedBy: 'enrollment-token:t1' });
  t.is(await either.verify('aaaa.bbbb.cccc'), null);
  t.deepEqual(asked, ['altnode_abcdef0123456789']);
});
