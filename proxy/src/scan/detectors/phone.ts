import { DIGITS, windowed } from './gates.js';
import { beNnValid, dateValid, peselValid } from './national-id-validators.js';
import type { Detector, Span } from './types.js';
import { luhnValid } from './validators.js';

/** A number an id, order, invoice or product label names is that, not a phone. */
const ID_CUE = /(?:\b(?:order|invoice|tracking|ref|reference|id|sku|isbn|asin|ean|gtin|upc|ticket|case|serial|part|account|acct|iban|ssn|sin|pesel|cpr|siren|siret|abn|acn|vat|no)\b\.?\s*(?:#|no\.?|:)?|#)\s*$/i;
/**
 * A word that names a phone number, close before it: with one, a number is a phone in any
 * plausible shape, as a reader would take it. Words in the languages whose national formats we
 * read, in the case a number's label takes (`numer telefonu`, `номер телефона`; not the plural of
 * the devices, `serwis telefonów`, `продажи телефонов`), `cep` (Turkish for mobile), `natel`
 * (Swiss), and Spanish `Tfno.`, `Telf.` and `Tf.` (only before a space: TensorFlow's `tf.constant(…)` is not one).
 */
const PHONE_CUE = new RegExp(
  String.raw`(?:\btf\.(?=\s)|\b(?:tel|tél|tlf|tfn|tfno|telf|phones?|telephone|téléphone|telefon(?:u|nummer|numero|szám)?|telefoon(?:nummer)?|telefono|teléfono|telefone|telepono|mobile?|mobil|móvil|movil|komórka|cell|cellular|celular|cellulare|handy|natel|gsm|fax|call|ring|whatsapp|sms|cep|puhelin|rufnummer|portable)\b(?!-)|телефона?(?![а-я])|тел\.|τηλέφωνο|τηλ\.|电话|手机|電話|携帯|전화|טלפון|फ़ोन|फोन|दूरभाष|मोबाइल)[^\n\d]{0,20}$`,
  'iu',
);
/** A phone's label alone on the line above its number (`Phone:\n358 0594`, a contact card, a form). */
const LABEL_ABOVE = /\n[ \t]*(?:phones?|tel|tél|telephone|téléphone|telefon(?:nummer)?|telefoon(?:nummer)?|telefono|teléfono|telefone|mobile?|mobil|móvil|cell|cellular|celular|fax|gsm|phone[ _-]?(?:number|no)|телефон|τηλέφωνο)[ \t]*:?[ \t]*\n[ \t]{0,4}$/iu;
/** Words of reaching someone right before the number (`reach me at`, `not answering at`, `messages to`, `dial`, Spanish `llamé al`). */
const CONTACT_CUE = /\b(?:reach(?:ed)?[ \t]+(?:me|us|him|her|them)|answering|messages?[ \t]+to|text[ \t]+(?:me|us)|dial(?:l?ed)?|llam[eéa]r?[ \t]+al)(?:[ \t]+(?:at|on))?[ \t]*:?[ \t]*$/i;
/** A person's own number: "my number is", "his number:". */
const OWN_NUMBER = /\b(?:my|his|her|our|their)[ \t]+number(?:[ \t]+is)?[ \t]*:?[ \t]*$/i;
const SEP = String.raw`(?:[ .\/-]| [\/-] )`;
const GROUP = String.raw`(?:\(\d{1,5}\) ?)?\d{1,12}`;
/** A digit group, or an IBAN's country, check digits and groups, just before: what follows continues it. */
const PART_OF_LONGER = /(?:\d|\b[A-Z]{2}\d{2}(?: [A-Z0-9]{4})*)([ .\/-]| [\/-] )$/;

/**
 * Phone numbers: international (`+CC …`) and national. A national number is taken from its
 * shape where the shape is a phone's and nothing else's:
 * - dialled with a trunk 0, as the numbering plans of most of Europe, Turkey, Israel, the
 *   Philippines, Australia… have it: area code then subscriber groups (`030 123456`,
 *   `0232 123 45 67`, `074104 10123`, `0 (532) 1234567`), French pairs, or the whole run
 *   unseparated (`05321234567`) when it is not a date-led id (`010190…`);
 * - without a trunk 0: North American NXX-NXX-XXXX, 3-3-4 in spaces, 2-3-4 in spaces, Brazilian
 *   `(11) 2345-6789`, and groups ending in pairs (`612 34 56 78`, `21 23 45 67`, Nordic and
 *   Alpine), which thousands separators never make.
 * Any other run of 7–15 digits is a phone only beside a word that says so (`Tel.`, `phone`,
 * `móvil`, `手机`). Dates, counting runs, byte dumps, 3-3-3 (a SIREN, a SIN) and 3-2-4 (an SSN)
 * stay quiet.
 */
export function phoneDetector(): Detector {
  return {
    id: 'pii-phone',
    label: 'pii.phone',
    family: 'pii',
    keywords: DIGITS,
    // Seven digits: the shortest number a phone word makes a phone (`Tel. 410 1234`).
    gate: windowed(/\d(?:[ ().\/+-]{0,2}\d){6}/, 19),
    find(text: string): Span[] {
      const spans: Span[] = [];
      RUN.lastIndex = 0;
      for (let m = RUN.exec(text); m; m = RUN.exec(text)) {
        if (isPhone(m)) {
          spans.push({ start: m.index, end: m.index + m[0].length });
          continue;
        }
        // A phone written with dashes or brackets, then a space and other numbers (a date, a time):
        // the part before the space is judged alone.
        const space = m[0].indexOf(' ');
        if (space >= 8 && /[-()]/.test(m[0].slice(0, space)) && isPhone(Object.assign([m[0].slice(0, space)], { index: m.index, input: m.input }) as unknown as RegExpExecArray, true)) {
          spans.push({ start: m.index, end: m.index + space });
          RUN.lastIndex = m.index + space;
          continue;
        }
        // A run of several numbers (a ZIP code then a phone, a list of phones) is no phone as a
        // whole: look again from its second group. Each run is tried at most once per group.
        const second = /^\(?\d+\)?(?:[ .\/-]| [\/-] )/.exec(m[0]);
        if (second && m[0].length - second[0].length >= 7) RUN.lastIndex = m.index + second[0].length;
      }
      return spans;
    },
  };
}

const EXTENSION = /[ ]?(?:x|ext\.?)[ ]?\d{1,5}$/i;

/** A run of digit groups with single separators between (one may be an area code in brackets), or an international number. */
const RUN = new RegExp(
  String.raw`(?<![\w+.\/-])(?:` +
    [
      // The country code may stand in brackets (`(+45) 1234-5678`); groups may be set off by a slash (`+49 176/ 12345678`).
      String.raw`(?:\+[1-9]\d{0,2}|\(\+[1-9]\d{0,2}\))[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:(?:[ .-]|\/ ?)?\d{2,8}){1,4}`,
      // North American with the country's 1 before the bracketed area code: `1(516)733-3989`.
      String.raw`1[ .-]?\(\d{3}\) ?\d{3}[ .-]\d{4}`,
      // (A single group is seven digits or more: shorter runs, most numbers in a text, never match.)
      String.raw`\(\d{1,5}\)[ -]?\d{1,12}(?:${SEP}${GROUP}){0,5}`,
      String.raw`\d{1,12}(?:${SEP}${GROUP}){1,5}`,
      // Up to fifteen digits run together: an international number dialled with 00 is one only beside a phone word.
      String.raw`\d{7,15}`,
    ].join('|') +
    // An extension (`x123`, `ext. 45`) ends the number; isPhone judges what stands before it.
    String.raw`)(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w.\/-]?\d|\w)`,
  'g',
);

/** `head`: m is the part of a longer run before its first space, judged without what follows it. */
function isPhone(m: RegExpExecArray, head = false): boolean {
  const text = m[0].replace(EXTENSION, '');
  // Most runs in text full of numbers are short (amounts, years, ids): counted, not sliced.
  let count = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) count++;
  // A bracketed `(+12)` is as often a change in a figure (`Revenue (+12) 1.234.567`): only beside a phone word, or
  // before a number grouped with dashes or as North America's 3-3-4 (`(+1)650-701-8887`), which no figure is.
  if (text.startsWith('(+')) {
    const rest = text.slice(text.indexOf(')') + 1).trim();
    const restGroups = rest.match(/\d+/g) ?? [];
    // (Not a date, a count or a short figure after the change: `(+14) 2024-05-01`, `(+12) 10-20-30-40`, `(+12) 345-678`.)
    const phoneShaped = !/[.,]/.test(rest) && (rest.includes('-') || /^\d{3} \d{3} \d{4}$/.test(rest)) && restGroups.join('').length >= 7 && !dateLike(restGroups) && !counting(restGroups);
    return count >= 8 && count <= 15 && (phoneShaped || PHONE_CUE.test(m.input.slice(Math.max(0, m.index - 32), m.index)));
  }
  if (text.startsWith('+')) return count >= 8 && count <= 15;
  if (count < 7 || count > 15) return false;
  const before = m.input.slice(Math.max(0, m.index - 40), m.index);
  const after = m.input.slice(m.index + m[0].length, m.index + m[0].length + 2);
  const seps = text.split(/\d+/).slice(1, -1).map((s) => s.trim() || ' ');
  // Groups of a longer number (a card, an IBAN: `DE26 8021 0829 1799 …`) are not a phone; a
  // number set off by another separator (`SD 20241 440-600-5124`) is one of its own.
  const longer = /[ .\/-]$/.test(before) ? PART_OF_LONGER.exec(before) : null;
  if (longer && (seps.length === 0 || seps.includes(longer[1]!.trim() || ' '))) return false;
  if (!head && /^[ .\/-]\d/.test(after)) return false;
  // `BE 0462423150`, `DK 32 27 15 02`: a country prefix makes a VAT or company number.
  if (/\b[A-Z]{2} ?$/.test(before)) return false;
  const groups = text.match(/\d+/g)!;
  if (dateLike(groups)) return false;
  const shape = text[0] === '0' || text.startsWith('(0') ? trunkShape(text, groups, seps) : shapeWithoutTrunk(text, groups, seps);
  if (shape && !ID_CUE.test(before.slice(-24))) return true;
  // A phone word close before makes any shape a phone, an id's label notwithstanding (`Cep no:`).
  const near = before.slice(-32);
  // (The label's line must start in what is read: at the text's start, a line break stands for it.)
  // "My number is 234-1234": a number its owner gives, when it is grouped as a phone is (not a count, `my number is 42 … 1234567`).
  return PHONE_CUE.test(near) || LABEL_ABOVE.test(m.index <= 40 ? '\n' + before : before) || CONTACT_CUE.test(near) || (OWN_NUMBER.test(near) && /\d[-. ]\d/.test(text));
}

/** A number dialled with a trunk 0: area code (0 included) and subscriber groups, French pairs, or one run. */
function trunkShape(text: string, raw: readonly string[], seps: readonly string[]): boolean {
  const total = raw.join('').length;
  // 00 is the international prefix, or the padding of an id or a serial.
  if (raw[0]!.startsWith('00') || total > 12) return false;
  // Unseparated: 0 and nine digits, as most trunk-0 plans write a mobile or a full number in
  // forms and fixtures (`0612345678`, `0505436743`); 0 and ten only in the ranges written so
  // (05, 07, 09, 015–017: TR, UK, PH, DE), a 0 and ten digits being as often an Italian VAT number. Not a date-led personal
  // number, nor a number that carries an id's own check: an Italian VAT number (Luhn, office
  // code), a PESEL, a Czech or Slovak birth number (a date, divisible by 11), a Belgian national number.
  if (raw.length === 1) return /^(?:0[1-9]\d{8}|0(?:[579]|1[5-7])\d{9})$/.test(raw[0]!) && !consecutive(raw[0]!) && !dateLed(raw[0]!) && !checkedId(raw[0]!);
  // The US EIN's 2-7 grouping (`01-1234567`) is a company's tax number.
  if (raw.length === 2 && raw[0]!.length === 2 && raw[1]!.length === 7) return false;
  // French: 0X then four pairs, one separator throughout (`06 12 34 56 78`, `01.23.45.67.89`).
  // Not `01 02 03 04 05`: counting pairs are a byte dump.
  if (total === 10 && raw.length === 5 && raw.every((g) => g.length === 2) && seps.every((s) => s === seps[0])) return !counting(raw);
  // Dots only in the French form; elsewhere they make versions, dates and IP addresses.
  if (seps.includes('.')) return false;
  // The trunk 0 written apart: `0 (532) 1234567`, `0-532-123-45-67`.
  const groups = raw[0] === '0' ? [raw[0] + raw[1]!, ...raw.slice(2)] : [...raw];
  const [area, ...subscriber] = groups as [string, ...string[]];
  if (area.length < 2 || area.length > 6 || subscriber.length === 0 || subscriber.length > 4) return false;
  // Eight digits only with the area code in brackets: `(022) 12345`, not `pp. 0212 0255`.
  if (total < 9 && !text.startsWith('(')) return false;
  // A six-digit area code (GB `074104`) is followed by five or more: `010190-1234` is a birth date and a serial.
  if (area.length >= 5 && subscriber.join('').length < area.length - 1) return false;
  if (threeThreeThree(groups)) return false;
  return subscriberGroups(subscriber) && (area.length >= 3 || subscriber.some((g) => g.length >= 3));
}

/** A national number written without a trunk prefix, in a shape no count, amount or id takes. */
function shapeWithoutTrunk(text: string, groups: readonly string[], seps: readonly string[]): boolean {
  const lengths = groups.map((g) => g.length).join('-');
  const spaces = seps.every((s) => s === ' ');
  const total = groups.join('').length;
  // North American with its country code 1 first: `1-800-555-6666`, `1(516)733-3989`.
  if (total === 11 && /^1[ .-]?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}$/.test(text)) return true;
  // North American: area code and exchange start 2–9.
  if (total === 10 && /^[2-9]\d{2}[2-9]/.test(groups.join(''))) {
    if (/^\(\d{3}\)[ -]?\d{3}[ .-]\d{4}$/.test(text) || /^\d{3}([.-])\d{3}\1\d{4}$/.test(text)) return true;
  }
  // Brazil: two-digit area code in brackets, then 4 or 5 and 4 digits, or a mobile's 9 and eight digits run together.
  if (/^\(\d{2}\) ?(?:\d{4,5}[ -]\d{4}|9\d{8})$/.test(text)) return true;
  if (!spaces) return false;
  // China's mobiles (1[3-9]x) in their 3-4-4 grouping.
  if (lengths === '3-4-4') return /^1[3-9]/.test(groups[0]!);
  if (!/^[2-9]/.test(groups[0]!)) return false;
  if (lengths === '3-3-4' || lengths === '2-3-4') return true;
  // Ending in pairs (`810 12 34 56`, `532 123 45 67`, `21 23 45 67`): phones, never thousands.
  if (groups.length >= 4 && total >= 8 && total <= 10 && /^[23]-(?:[23]-)?2-2$/.test(lengths)) return !counting(groups);
  return false;
}

/** After the area code: groups of two or more, pairs only at the end (`123 45 67`, not the SSN's `05-1120`). */
function subscriberGroups(groups: readonly string[]): boolean {
  let pairs = false;
  for (const g of groups) {
    if (g.length < 2) return false;
    if (g.length === 2) pairs = true;
    else if (pairs) return false;
  }
  return true;
}

const threeThreeThree = (groups: readonly string[]): boolean => groups.length === 3 && groups.every((g) => g.length === 3);

function dateLike(groups: readonly string[]): boolean {
  if (groups.length !== 3) return false;
  const [a, b, c] = groups as [string, string, string];
  const year = (y: string) => /^(?:19|20)\d\d$/.test(y);
  const small = (x: string) => x.length <= 2 && Number(x) >= 1 && Number(x) <= 31;
  return (year(c) && small(a) && small(b)) || (year(a) && small(b) && small(c));
}

/** Six leading digits that read as a date, day or year first (`010190…`, `900101…`): a birth-date-led id, not a phone. */
function dateLed(run: string): boolean {
  const [x, y, z] = [Number(run.slice(0, 2)), Number(run.slice(2, 4)), Number(run.slice(4, 6))];
  const ddmm = x >= 1 && x <= 31 && y >= 1 && y <= 12;
  const yymmdd = y >= 1 && y <= 12 && z >= 1 && z <= 31;
  return ddmm || yymmdd;
}

/** A run with an id's check in it: Italian VAT (office code 001–100, 120, 121, 888, 999 and Luhn), PESEL, CZ/SK birth number, BE national number. */
function checkedId(run: string): boolean {
  if (run.length === 11) {
    const office = Number(run.slice(7, 10));
    if ((office >= 1 && office <= 100) || [120, 121, 888, 999].includes(office)) if (luhnValid(run)) return true;
    // A PESEL of someone alive: born in the 1900s or 2000s (month up to 12, or 21–32).
    return (peselValid(run) && Number(run.slice(2, 4)) <= 32) || beNnValid(run);
  }
  const month = Number(run.slice(2, 4)) % 50 % 20;
  return Number(run) % 11 === 0 && month >= 1 && month <= 12 && dateValid(2000, month, Number(run.slice(4, 6)));
}

/** `0123456789`: the digits in order, a placeholder or an alphabet. */
const consecutive = (run: string): boolean => '01234567890123456789'.includes(run);

/** Equal steps between groups: `01 02 03 04 05`, `10 20 30 40`, a byte dump or a made-up example. */
function counting(groups: readonly string[]): boolean {
  const step = Number(groups[1]) - Number(groups[0]);
  return groups.every((g, i) => i === 0 || Number(g) - Number(groups[i - 1]) === step);
}
