import { DIGITS, windowed } from './gates.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';
import { cardNetwork, luhnValid, TEST_CARDS } from './validators.js';

/** An order, tracking or product number says what it is; `#` does too, unless a card word names it (`Card #4…`). */
const ID_CUE = /(?:\b(?:order|invoice|tracking|ref|reference|id|sku|isbn|gtin|ean|upc|ticket|case)\b\s*(?:#|no\.?|:)?|(?<!\b(?:card|cc|visa|amex|mastercard|maestro)\s*)#)\s*$/i;
/** Words that name a payment card, for the one range too common to call a card without one. */
const CARD_CUE = /\b(?:card|credit|debit|cc|pan|uatp|payment)\b[^\n]{0,30}$/i;
const SIRET_CUE = /\b(?:siret|siren)\b[^\n]{0,30}$/i;

/**
 * Payment card numbers: 13–19 digits in a network's issuer range and length, passing Luhn, not
 * a published test number, written bare or in groups that start with four digits (as every
 * network prints them; `380 321 430 00023` is a French SIRET's 3-3-3-5).
 */
export function cardDetector(): Detector {
  return new RegexDetector(
    'pci-card',
    'pci.card',
    'pii',
    DIGITS,
    // 13–19 digits, optionally grouped by single spaces or dashes; not part of a longer number or
    // word. A comma may border it: a CSV field, as a thousands group is never 13 digits long.
    /(?<![\w.+-])\d(?:[ -]?\d){12,18}(?!\w|\.\d|-\d)/g,
    (m) => {
      const text = m[0];
      if (/ [^ ]*-|-[^-]* /.test(text)) return null; // mixed separators: a formula, not a card
      if (/[ -]/.test(text) && !/^\d{4}[ -]/.test(text)) return null;
      const digits = text.replace(/[ -]/g, '');
      if (!luhnValid(digits) || TEST_CARDS.has(digits)) return null;
      const network = cardNetwork(digits);
      if (!network) return null;
      const before = m.input.slice(Math.max(0, m.index - 40), m.index);
      // A SIRET is 14 digits whose first nine (the SIREN) pass Luhn as well as the whole. One
      // Diners number in ten does too: found when printed as Diners prints it (4-6-4), which a
      // SIRET never is; bare, it is the price of not flagging every French company.
      if (digits.length === 14 && (SIRET_CUE.test(before) || (luhnValid(digits.slice(0, 9)) && !/^\d{4}([ -])\d{6}\1\d{4}$/.test(text)))) return null;
      if (network === 'uatp' && !CARD_CUE.test(before)) return null;
      // One random number in ten passes Luhn: an order or tracking number says what it is.
      if (ID_CUE.test(before.slice(-24))) return null;
      return { start: m.index, end: m.index + text.length };
    },
    windowed(/\d(?:[ -]?\d){12}/, 25),
  );
}
