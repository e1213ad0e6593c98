import { DIGITS, windowed } from './gates.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';

/** A number an id, order or invoice label names is that, not a phone. */
const ID_CUE = /(?:\b(?:order|invoice|tracking|ref|reference|id|sku|ticket|case|serial|part|no)\b\.?\s*(?:#|no\.?|:)?|#)\s*$/i;
const SEP = String.raw`(?:[ .\/-]| [\/-] )`;
/** A digit group, or an IBAN's country, check digits and groups, just before: what follows continues it. */
const PART_OF_LONGER = /(?:\d|\b[A-Z]{2}\d{2}(?: [A-Z0-9]{4})*)(?:[ .\/-]| [\/-] )$/;

/**
 * Phone numbers: international (`+CC …`), North American (NXX-NXX-XXXX), and national numbers
 * dialled with a trunk 0 (UK `020 7946 0xxx`, `07700 900xxx`; DE `0152 4893…`, `030/1234567`;
 * FR `06 12 34 56 78`, `01.23.45.67.89`; AU, IT, …). National numbers are accepted only as people
 * group them — area code, then subscriber groups of three or more digits, or French pairs — so
 * dates, versions and bare runs of digits stay quiet; an unseparated `07700900105` is not caught.
 */
export function phoneDetector(): Detector {
  return new RegexDetector(
    'pii-phone',
    'pii.phone',
    'pii',
    DIGITS,
    new RegExp(
      String.raw`(?<![\w+.\/-])(?:` +
        [
          String.raw`\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}`,
          String.raw`(?:\(0\d{1,4}\) ?|0[1-9]\d{0,4}${SEP})\d{2,8}(?:${SEP}\d{2,8}){0,3}`,
          String.raw`\(\d{3}\) ?\d{3}[ .-]\d{4}`,
          String.raw`\d{3}[.-]\d{3}[.-]\d{4}`,
        ].join('|') +
        String.raw`)(?![\w.\/-]?\d|\w)`,
      'g',
    ),
    (m) => {
      const text = m[0];
      const digits = text.replace(/\D/g, '');
      if (text.startsWith('+')) return digits.length >= 8 && digits.length <= 15 ? whole(m) : null;
      if (digits.startsWith('0')) {
        const before = m.input.slice(Math.max(0, m.index - 24), m.index);
        const after = m.input.slice(m.index + text.length, m.index + text.length + 2);
        // Groups of a longer number (a card, an IBAN: `DE26 8021 0829 1799 …`) are not a phone.
        if (PART_OF_LONGER.test(before) || /^[ .\/-]\d/.test(after)) return null;
        if (ID_CUE.test(before)) return null;
        return nationalShape(text) ? whole(m) : null;
      }
      // NANP: area code and exchange start 2–9.
      return digits.length === 10 && /^[2-9]\d{2}[2-9]/.test(digits) ? whole(m) : null;
    },
    windowed(/\d(?:[ ().\/+-]{0,2}\d){7}/, 22),
  );
}

const whole = (m: RegExpExecArray): Span => ({ start: m.index, end: m.index + m[0].length });

/** Area code (trunk 0 included) and subscriber groups as people write them, or French pairs. */
function nationalShape(text: string): boolean {
  const groups = text.match(/\d+/g)!;
  const seps = text.split(/\d+/).slice(1, -1).map((s) => s.trim() || ' ');
  const parenthesised = text.startsWith('(');
  const total = groups.join('').length;
  // French: 0X then four pairs, one separator throughout (`06 12 34 56 78`, `01.23.45.67.89`).
  // Not `01 02 03 04 05`: counting pairs are a byte dump or a made-up example.
  if (total === 10 && groups.length === 5 && groups.every((g) => g.length === 2) && seps.every((s) => s === seps[0])) return !counting(groups);
  // Area code (trunk 0 included) then subscriber groups of three or more; dots only in the French form.
  if (seps.some((s) => s === '.')) return false;
  const [area, ...subscriber] = groups;
  const areaOk = area!.length >= 2 && area!.length <= 5 && (seps[0] === ' ' || seps[0] === '/' || seps[0] === '-' || parenthesised);
  return areaOk && total >= 10 && total <= 12 && subscriber.length >= 1 && subscriber.length <= 3 && subscriber.every((g) => g.length >= 3);
}

function counting(groups: readonly string[]): boolean {
  const step = Number(groups[1]) - Number(groups[0]);
  return groups.every((g, i) => i === 0 || Number(g) - Number(groups[i - 1]) === step);
}
