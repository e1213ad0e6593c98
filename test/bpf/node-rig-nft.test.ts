// The netns rig against the nftables fallback (no cgroup BPF): the same proofs, with the
// differences that mode has (connect reset instead of EPERM; UDP rejected on the wire).
import { nftSkipReason, nodeRigSuite } from './node-rig.js';
import { suiteOrSkip } from './suite.js';

suiteOrSkip('nftables rig', nftSkipReason(), () => nodeRigSuite('nftables'));
