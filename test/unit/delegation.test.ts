import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import { formatChain, generateHolderKey, parseChain, rawPublicKey, type KeyPair } from '../../proxy/src/delegation/format.js';
import { covered, DATA_CLASSES, GRANT_DIMENSIONS, type Grant, type GrantDimension } from '../../proxy/src/delegation/grant.js';
import { attenuate, mintRoot } from '../../proxy/src/delegation/mint.js';
import { verifyChain } from '../../proxy/src/delegation/verify.js';

// Property tests over random delegation chains: honest attenuation always verifies; a link
// that widens any one dimension, outlives its parent, or is forged, reordered or cut refuses
// the whole chain.

const NOW = 1_800_000_000;
const { privateKey: rootKey, publicKey: rootPub } = generateKeyPairSync('ed25519');
const roots = new Map<string, KeyObject>([[rawPublicKey(rootPub), rootPub]]);
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-haiku', 'claude-3-opus', 'gemini-2.5-flash'];
const TOOLS = ['lookup_order', 'issue_refund', 'send_email', 'search_docs', 'delete_user'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2'];

/** A root grant restricting every dimension, so that every dimension can be widened below it. */
const fullGrant = fc.record({
  budget_usd: fc.integer({ min: 10, max: 1000 }),
  models: fc.subarray(MODELS, { minLength: 2 }),
  tools: fc.subarray(TOOLS, { minLength: 2 }),
  data_ceiling: fc.constantFrom('confidential' as const, 'public' as const),
  rate: fc.record({ requests: fc.integer({ min: 10, max: 100 }), per_s: fc.constantFrom(60, 3600) }),
  regions: fc.subarray(REGIONS, { minLength: 2 }),
});

/** A child that attenuates or keeps each dimension of `g` (the grant in force above it). */
function attenuation(g: Grant): fc.Arbitrary<Grant> {
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  return fc
    .record({
      budget_usd: maybe(fc.integer({ min: 0, max: g.budget_usd! })),
      models: maybe(fc.subarray(g.models!, { minLength: 1 })),
      tools: maybe(fc.subarray(g.tools!, { minLength: 1 })),
      data_ceiling: maybe(fc.constantFrom(...DATA_CLASSES.slice(0, DATA_CLASSES.indexOf(g.data_ceiling!) + 1))),
      rate: maybe(fc.record({ requests: fc.integer({ min: 1, max: g.rate!.requests }), per_s: fc.constant(g.rate!.per_s) })),
      regions: maybe(fc.subarray(g.regions!, { minLength: 1 })),
    })
    .map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as Grant);
}

/** `c` widened in exactly one dimension relative to `g`. */
function widen(g: Grant, c: Grant, dim: GrantDimension): Grant {
  const w: Grant = { ...c };
  if (dim === 'budget_usd') w.budget_usd = g.budget_usd! + 1;
  if (dim === 'models') w.models = [...(c.models ?? g.models!), 'o3-pro'];
  if (dim === 'tools') w.tools = [...(c.tools ?? g.tools!), 'drop_database'];
  if (dim === 'regions') w.regions = [...(c.regions ?? g.regions!), 'ap-south-1'];
  if (dim === 'data_ceiling') w.data_ceiling = g.data_ceiling === 'public' ? 'confidential' : 'restricted';
  if (dim === 'rate') w.rate = { requests: g.rate!.requests + 1, per_s: g.rate!.per_s };
  return w;
}

interface Built {
  chain: string;
  holders: KeyPair[];
  grants: Grant[];
}

/** Mints a root and appends each child; child i is held by holders[i+1]. */
function build(root: Grant, children: Grant[], exps: number[] = []): Built {
  const holders = [generateHolderKey()];
  let chain = mintRoot(rootKey, { sub: holders[0]!.publicKey, aud: 'orchestrator', nbf: NOW - 10, exp: exps[0] ?? NOW + 3600, ...root }, NOW);
  children.forEach((g, i) => {
    const next = generateHolderKey();
    chain = attenuate(chain, holders[i]!.privateKey, { sub: next.publicKey, aud: `worker-${i}`, exp: exps[i + 1] ?? NOW + 3000 - i, ...g }, NOW);
    holders.push(next);
  });
  return { chain, holders, grants: [root, ...children] };
}

/** Root and a path of honest attenuations, each drawn from the grant in force above it. */
const honestChain = fullGrant.chain((root) =>
  fc.integer({ min: 0, max: 4 }).chain((n) => {
    let arb: fc.Arbitrary<Grant[]> = fc.constant([]);
    for (let i = 0; i < n; i++) {
      arb = arb.chain((sofar) => {
        const inForce = sofar.reduce<Grant>((acc, g) => ({ ...acc, ...g }), root);
        return attenuation(inForce).map((c) => [...sofar, c]);
      });
    }
    return arb.map((children) => ({ root, children }));
  }),
);

test('every honest attenuation verifies, and the grant in force is the nearest restriction of each dimension', (t) => {
  fc.assert(
    fc.property(honestChain, ({ root, children }) => {
      const built = build(root, children);
      const v = verifyChain(built.chain, roots, NOW);
      const expected = [root, ...children].reduce<Grant>((acc, g) => ({ ...acc, ...g }), {});
      // Through JSON: fast-check's records have no prototype, the verifier's grants do.
      return isDeepStrictEqual(JSON.parse(JSON.stringify(v.grant)), JSON.parse(JSON.stringify(expected))) && v.links.length === children.length + 1 && v.aud === (children.length ? `worker-${children.length - 1}` : 'orchestrator');
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('a link that widens any one dimension refuses the whole chain, naming the link and the dimension', (t) => {
  fc.assert(
    fc.property(honestChain, fc.constantFrom(...GRANT_DIMENSIONS), fc.nat(), ({ root, children }, dim, pick) => {
      const all = children.length ? children : [{}];
      const at = pick % all.length;
      const inForce = [root, ...all.slice(0, at)].reduce<Grant>((acc, g) => ({ ...acc, ...g }), {});
      const tampered = all.map((c, i) => (i === at ? widen(inForce, c, dim) : c));
      const built = build(root, tampered);
      try {
        verifyChain(built.chain, roots, NOW);
        return false;
      } catch (err) {
        return (err as Error).message.startsWith(`link ${at + 1} widens ${dim}`);
      }
    }),
    { numRuns: 120 },
  );
  t.pass();
});

test('a link that outlives its parent, or a chain used after a parent expired, is refused', (t) => {
  fc.assert(
    fc.property(fullGrant, fc.integer({ min: 1, max: 3 }), (root, n) => {
      const children = Array.from({ length: n }, () => ({}));
      const exps = [NOW + 100, ...children.map(() => NOW + 50)];
      exps[n] = NOW + 101; // the last link outlives the root
      try {
        verifyChain(build(root, children, exps).chain, roots, NOW);
        return false;
      } catch (err) {
        if (!/outlives its parent/.test((err as Error).message)) return false;
      }
      const honest = build(root, children, [NOW + 100, ...children.map(() => NOW + 50)]);
      try {
        verifyChain(honest.chain, roots, NOW + 60);
        return false;
      } catch (err) {
        return /expired/.test((err as Error).message);
      }
    }),
    { numRuns: 20 },
  );
  t.pass();
});

test('forged, reordered, spliced and truncated chains are refused', (t) => {
  fc.assert(
    fc.property(fullGrant, fc.integer({ min: 2, max: 4 }), fc.nat(), fc.nat(), (root, n, a, b) => {
      const built = build(root, Array.from({ length: n }, () => ({})));
      const links = parseChain(built.chain).map((l) => l.text);
      const refused = (chain: string) => {
        try {
          verifyChain(chain, roots, NOW);
          return false;
        } catch {
          return true;
        }
      };
      // One character of one link changed (payload or signature).
      const i = a % links.length;
      const j = b % links[i]!.length;
      const flipped = links[i]![j] === 'A' ? 'B' : 'A';
      const forged = links.map((l, k) => (k === i ? l.slice(0, j) + flipped + l.slice(j + 1) : l));
      // Two links swapped; the first link dropped; a middle link dropped.
      const swapped = [...links];
      [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
      const headless = links.slice(1);
      const gap = [...links.slice(0, 1), ...links.slice(2)];
      // A link of another chain spliced in at the same place.
      const other = parseChain(build(root, Array.from({ length: n }, () => ({}))).chain).map((l) => l.text);
      const spliced = [...links.slice(0, 2), other[2]!, ...links.slice(3)];
      return [forged, swapped, headless, gap, spliced].every((l) => refused(formatChain(l)));
    }),
    { numRuns: 50 },
  );
  t.pass();
});

test('a chain from an untrusted root, or with fields a verifier does not know, is refused', (t) => {
  const { privateKey: otherRoot } = generateKeyPairSync('ed25519');
  const holder = generateHolderKey();
  const foreign = mintRoot(otherRoot, { sub: holder.publicKey, aud: 'a', exp: NOW + 60 }, NOW);
  t.throws(() => verifyChain(foreign, roots, NOW), { message: /not signed by a trusted root/ });
  const unknown = mintRoot(rootKey, { sub: holder.publicKey, aud: 'a', exp: NOW + 60, spend_anything: true } as never, NOW);
  t.throws(() => verifyChain(unknown, roots, NOW), { message: /unknown field "spend_anything"/ });
  t.throws(() => verifyChain('adt1~', roots, NOW), { message: /payload\.signature/ });
  t.throws(() => verifyChain('jwt~x.y', roots, NOW), { message: /starts with "adt1~"/ });
});

test('glob cover: a child pattern is within a parent pattern only when everything it admits is', (t) => {
  t.true(covered(['gpt-4o*'], 'gpt-4o-mini'));
  t.true(covered(['gpt-4o*'], 'gpt-4o-mini*'));
  t.true(covered(['*'], 'anything*'));
  t.false(covered(['gpt-4o-mini'], 'gpt-4o*'), 'a pattern is wider than the one name it starts with');
  t.false(covered(['a*b'], 'a*'));
  t.false(covered(['*x*'], '*'));
  t.true(covered(['a*c*'], 'a*c'));
});
