import { cardDetector } from './cards.js';
import { emailDetector } from './email.js';
import { DIGITS, windowed } from './gates.js';
import { ibanDetector } from './iban.js';
import { phoneDetector } from './phone.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';
import { aadhaarValid, dniValid, ninoValid, nirValid, ssnValid } from './validators.js';

const whole = (m: RegExpExecArray) => ({ start: m.index, end: m.index + m[0].length });

/** Regulated data, each with a validator so look-alikes (failed checksums, test cards, versions) stay quiet. */
export function regulatedDataDetectors(): Detector[] {
  return [
    cardDetector(),
    emailDetector(),
    phoneDetector(),
    ibanDetector(),
    new RegexDetector(
      'pii-us-ssn',
      'pii.national_id',
      'pii',
      DIGITS,
      /(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-])/g,
      (m) => {
        const [, area, sep, group, serial] = m as unknown as [string, string, string, string, string];
        if (!ssnValid(area, group, serial)) return null;
        // Nine bare digits are too often something else; without separators, only beside a cue.
        if (sep === '' && !/\b(?:ssn|social security|tin|taxpayer)\b[^\n]{0,30}$/i.test(m.input.slice(Math.max(0, m.index - 40), m.index))) return null;
        return whole(m);
      },
      // Windowed like the card gate: on a long run of 8-digit numbers one whole-text search passes V8's backtrack limit.
      windowed(/\d{3}[- ]?\d{2}[- ]?\d{4}/, 11),
    ),
    new RegexDetector(
      'pii-uk-nino',
      'pii.national_id',
      'pii',
      DIGITS,
      /(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Za-z0-9])/g,
      (m) => (ninoValid(m[1]!) ? whole(m) : null),
      windowed(/[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]/, 13),
    ),
    new RegexDetector(
      'pii-es-dni',
      'pii.national_id',
      'pii',
      DIGITS,
      // DNI 12345678Z, NIE X1234567L (a dash before the letter is common); the mod-23 letter must fit.
      /(?<![A-Za-z0-9-])([XYZ]?\d{7,8})-?([A-Z])(?![A-Za-z0-9])/g,
      (m) => (dniValid(m[1]! + m[2]!) ? whole(m) : null),
      // An uppercase letter right after a digit: the engine skips to capitals, cheap on prose and on digit runs alike.
      windowed(/[A-Z](?<=\d-?[A-Z])/, 10),
    ),
    new RegexDetector(
      'pii-fr-nir',
      'pii.national_id',
      'pii',
      DIGITS,
      // 1 85 05 78 006 084 36, or the 15 characters run together; the mod-97 key must fit.
      /(?<![\w-])([12]) ?(\d{2}) ?(\d{2}) ?(\d{2}|2[AB]) ?(\d{3}) ?(\d{3}) ?(\d{2})(?![\w-])/g,
      (m) => (nirValid(m.slice(1, 8).join('')) ? whole(m) : null),
      windowed(/[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}/, 21),
    ),
    new RegexDetector(
      'pii-in-aadhaar',
      'pii.national_id',
      'pii',
      ['aadhaar', 'aadhar', 'uidai'],
      // Twelve digits pass Verhoeff one time in ten: only beside the word that names them.
      /(?<![\w-])([2-9]\d{3})([ -]?)(\d{4})\2(\d{4})(?![\w-])/g,
      (m) => {
        if (!aadhaarValid(m[1]! + m[3]! + m[4]!)) return null;
        return /\b(?:aadhaa?r|uidai)\b[^\n]{0,40}$/i.test(m.input.slice(Math.max(0, m.index - 60), m.index)) ? whole(m) : null;
      },
    ),
  ];
}
