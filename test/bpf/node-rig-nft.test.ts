// The netns rig against the nftables fallback (no cgroup BPF): the same proofs, with the
// differences that mode has (connect reset instead of EPERM; UDP rejected on the wire).
import test from 'ava';
import { nftSkipReason, nodeRigSuite } from './node-rig.js';

const why = nftSkipReason();
if (why === null) nodeRigSuite('nftables');
else {
  console.error(`test/bpf/node-rig-nft: skipped: ${why}`);
  test(`skipped (nftables rig unavailable: ${why})`, (t) => {
    t.log(`skipped: ${why}`);
    t.pass();
  });
}
