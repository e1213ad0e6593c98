// The netns rig against the kernel programs (bpf/).
import { nodeRigSuite } from './node-rig.js';
import { bpfSuite } from './suite.js';

bpfSuite(() => nodeRigSuite('bpf'));
