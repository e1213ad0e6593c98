import { cardDetector } from './cards.js';
import { emailDetector } from './email.js';
import { spelledEmailDetector } from './email-spelled.js';
import { ibanDetector } from './iban.js';
import { namedNationalIdDetectors } from './named-national-ids.js';
import { nationalIdDetectors } from './national-ids.js';
import { phoneDetector } from './phone.js';
import type { Detector } from './types.js';

/** Regulated data, each with a validator so look-alikes (failed checksums, test cards, versions) stay quiet. */
export function regulatedDataDetectors(): Detector[] {
  return [cardDetector(), emailDetector(), spelledEmailDetector(), phoneDetector(), ibanDetector(), ...nationalIdDetectors(), ...namedNationalIdDetectors()];
}
