import test from 'ava';
import { generateKeySecret, hashKey, KeyRegistry, type VirtualKey } from '../../proxy/src/identity/keys.js';

function keyFor(secret: string, id = 'k1'): VirtualKey {
  return { id, hash: hashKey(secret), prefix: secret.slice(0, 10), agent: 'a', team: 't', models: [], providers: [], costCenter: null, expiresAt: null, revokedAt: null, createdAt: 0 };
}

/** A registry holding one fresh key, and that key's secret. */
function registryWithOneKey(): { keys: KeyRegistry; secret: string; key: VirtualKey } {
  const keys = new KeyRegistry();
  const secret = generateKeySecret();
  const key = keyFor(secret);
  keys.put(key);
  return { keys, secret, key };
}

test('a secret presented again finds the same key, and an unknown one finds none', (t) => {
  const { keys, secret, key } = registryWithOneKey();
  t.is(keys.findBySecret(secret), key);
  t.is(keys.findBySecret(secret), key);
  t.is(keys.findBySecret(generateKeySecret()), undefined);
});

// The registry remembers secrets it has hashed: what it remembers must never outlive the key.
test('a key revoked (replaced) or removed after its secret was seen is looked up afresh', (t) => {
  const { keys, secret, key } = registryWithOneKey();
  t.is(keys.findBySecret(secret), key);
  const revoked = { ...key, revokedAt: 123 };
  keys.put(revoked);
  t.is(keys.findBySecret(secret), revoked);
  keys.remove(key.id);
  t.is(keys.findBySecret(secret), undefined);
  t.is(keys.findBySecret(secret), undefined);
  keys.put(key); // put back under the same id: found again
  t.is(keys.findBySecret(secret), key);
});

test('a rotated key: the old secret stops, the new one works', (t) => {
  const keys = new KeyRegistry();
  const old = generateKeySecret();
  keys.put(keyFor(old));
  t.truthy(keys.findBySecret(old));
  const fresh = generateKeySecret();
  keys.put(keyFor(fresh)); // same id, new hash: the old hash leaves the registry
  t.is(keys.findBySecret(old), undefined);
  t.is(keys.findBySecret(fresh)?.hash, hashKey(fresh));
});

test('many distinct secrets: every one still resolves to its own key', (t) => {
  const keys = new KeyRegistry();
  const secrets = Array.from({ length: 5000 }, (_, i) => {
    const s = generateKeySecret();
    keys.put(keyFor(s, `k${i}`));
    return s;
  });
  for (const round of [1, 2]) for (const [i, s] of secrets.entries()) t.is(keys.findBySecret(s)?.id, `k${i}`, `round ${round}, key ${i}`);
});
