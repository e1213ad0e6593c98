import { DIGITS, windowed } from './gates.js';
import { nationalIdDetectors } from './national-ids.js';
import { phoneDetector } from './phone.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';
import { cardNetwork, ibanValid, luhnValid, TEST_CARDS } from './validators.js';

const ID_CUE = /(?:\b(?:order|invoice|tracking|ref|reference|id|sku|isbn|gtin|ean|upc|ticket|case)\b\s*(?:#|no\.?|:)?|#)\s*$/i;
const ASSET_EXTENSION = /\.(?:png|jpe?g|gif|svg|webp|avif|bmp|ico|tiff?|heic|css|js|mjs|cjs|jsx|tsx|json|ya?ml|toml|txt|html?|pdf|woff2?|ttf|otf|wasm|scss)$/i;
const whole = (m: RegExpExecArray) => ({ start: m.index, end: m.index + m[0].length });

/** Regulated data, each with a validator so look-alikes (failed checksums, test cards, versions) stay quiet. */
export function regulatedDataDetectors(): Detector[] {
  return [
    new RegexDetector(
      'pci-card',
      'pci.card',
      'pii',
      DIGITS,
      // 13–19 digits, optionally grouped by single spaces or dashes; not part of a longer number or
      // word. A comma may border it: a CSV field, as a thousands group is never 13 digits long.
      /(?<![\w.+-])\d(?:[ -]?\d){12,18}(?!\w|\.\d|-\d)/g,
      (m) => {
        const digits = m[0].replace(/[ -]/g, '');
        if (/ [^ ]*-|-[^-]* /.test(m[0])) return null; // mixed separators: a formula, not a card
        if (!luhnValid(digits) || TEST_CARDS.has(digits) || !cardNetwork(digits)) return null;
        // One random number in ten passes Luhn: an order or tracking number says what it is.
        if (ID_CUE.test(m.input.slice(Math.max(0, m.index - 24), m.index))) return null;
        return whole(m);
      },
      windowed(/\d(?:[ -]?\d){12}/, 25),
    ),
    new RegexDetector(
      'pii-email',
      'pii.email',
      'pii',
      ['@'],
      /(?<![\w.+\-/])(?<!(?<![Mm][Aa][Ii][Ll][Tt][Oo]):)[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,24}(?![\w@-])/g,
      (m) => {
        // git@github.com:org/repo is an SSH remote, not a mailbox.
        if (/^git@/i.test(m[0]) && m.input[m.index + m[0].length] === ':') return null;
        // logo@2x.png, icon@3x.webp: a retina asset; these extensions are no top-level domain.
        if (ASSET_EXTENSION.test(m[0])) return null;
        return whole(m);
      },
      undefined,
      // Local part ≤ 64 (and `mailto:` before it), domain ≤ 9 labels of ≤ 64 plus a TLD: every match sits within these bounds of its '@'.
      { literal: '@', before: 72, after: 620 },
    ),
    phoneDetector(),
    new RegexDetector(
      'pii-iban',
      'pii.iban',
      'pii',
      DIGITS,
      /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g,
      (m) => (ibanValid(m[0].replace(/ /g, '')) ? whole(m) : null),
      windowed(/[A-Z]{2}\d{2} ?[A-Z0-9]{4}/, 9),
    ),
    ...nationalIdDetectors(),
  ];
}
