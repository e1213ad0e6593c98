import test from 'ava';
import { presentedCredential } from '../../proxy/src/identity/presented.js';

test('finds the virtual key wherever an SDK puts it', (t) => {
  t.is(presentedCredential({ authorization: 'Bearer alt-abc' }, null).virtual, 'alt-abc');
  t.is(presentedCredential({ 'x-api-key': 'alt-abc' }, null).virtual, 'alt-abc');
  t.is(presentedCredential({ 'api-key': 'alt-abc' }, null).virtual, 'alt-abc');
  t.is(presentedCredential({ 'x-goog-api-key': 'alt-abc' }, null).virtual, 'alt-abc');
  t.is(presentedCredential({}, new URLSearchParams('key=alt-abc')).virtual, 'alt-abc');
});

test('anything else is a real key, and a real key beside a virtual one is still seen', (t) => {
  const p = presentedCredential({ authorization: 'Bearer alt-abc', 'x-api-key': 'sk-ant-real' }, null);
  t.is(p.virtual, 'alt-abc');
  t.is(p.realIn, 'x-api-key');
  t.is(presentedCredential({ authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/x' }, null).realIn, 'authorization');
  const none = presentedCredential({}, null);
  t.is(none.virtual, null);
  t.is(none.realIn, null);
});
