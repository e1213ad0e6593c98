import test from 'ava';
import { reasonCodes, reasons } from '../../proxy/src/core/reasons.js';

test('reason codes are ALT_ + upper snake case, with a status and a hint', (t) => {
  for (const c of reasonCodes) {
    t.regex(c, /^ALT_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    t.true(reasons[c].status >= 200 && reasons[c].status < 600);
    t.true(reasons[c].hint.length > 10);
  }
});

test('every reason code has a retry class; exactly the codes that never refuse are not_a_refusal', (t) => {
  for (const c of reasonCodes) {
    t.true(['never', 'later', 'transient', 'not_a_refusal'].includes(reasons[c].retry), c);
    t.is(reasons[c].retry === 'not_a_refusal', reasons[c].status < 400, c);
  }
});
