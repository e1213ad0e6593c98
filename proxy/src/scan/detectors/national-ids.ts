import { DIGITS, type Gate, windowed } from './gates.js';
import {
  aadhaarValid, mod11_10, codiceFiscaleValid, cnpValid, cpfValid, curpValid, dniValid, egnValid, fodselsnummerValid, hetuValid, isikukoodValid, itinValid,
  ninoValid, nirValid, peselValid, personnummerValid, ppsValid, ricValid, rrnValid, rvnrValid, sinValid, ssnValid, steuerIdValid, tcknValid, thaiPinValid, zaIdValid,
} from './national-id-validators.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';

/*
 * Personal national ids. Which form of each is found on its own and which only beside the id's
 * name comes from how often a number of that shape passes the id's rules (measured over random
 * digits, epoch timestamps, run-together phone numbers and EAN codes):
 *
 * - On its own: forms whose structure says what they are — a letter or a sign in a fixed place
 *   (HETU's century sign, DNI/NIE, two-letter PPS, RVNR, codice fiscale, CURP, NINO), the printed
 *   grouping of the id (SSN/ITIN 123-45-6789, CPF 000.000.000-00, Thai 1-2345-67890-12-3, KR
 *   YYMMDD-GNNNNNN, SE YYMMDD-NNNN), or digits that must hold a real date of birth, a region code
 *   and check digits (ZA, CN, RO, EE, NO, PL, TR, Steuer-ID), which leaves about one random number
 *   of that length in a hundred or fewer. Ten or twelve digits with a date (BG, SE) only if the
 *   date is an adult's: see adultBorn.
 * - Only beside their name: forms whose rules are a checksum alone, passing one number in ten or
 *   more — nine bare digits (SSN, ITIN), a SIN however written (a French SIREN is printed the same
 *   way and always passes Luhn), Aadhaar (Verhoeff), thirteen bare Thai digits (one mod-11 digit;
 *   millisecond timestamps fall in valid province codes), eleven bare CPF digits, one-letter PPS.
 * - Never a number the text calls an order, invoice, tracking or phone number or a time, nor a
 *   group of a longer grouped number.
 */

const whole = (m: RegExpExecArray): Span => ({ start: m.index, end: m.index + m[0].length });
const compact = (s: string): string => s.replace(/[\s.+-]/g, '');

/** A number the text calls an order, invoice, tracking or phone number, or a time (`"created_at": 1718093682`), is that. */
const ID_CUE =
  /(?:\b(?:order|invoice|tracking|ref|reference|sku|isbn|gtin|ean|upc|ticket|case|serial|part|account|acct|phone|tel|fax|mobile|ts|epoch|iat|exp|nbf)|time(?:stamp)?|date|_at)\b\W{0,4}(?:no\.?|number|#)?\W{0,3}$/i;
const labelledOther = (m: RegExpExecArray): boolean => ID_CUE.test(m.input.slice(Math.max(0, m.index - 30), m.index));
/** Groups of a longer grouped number (a SIRET, a VAT or organisation number: `473 829 109 00007`, `FR 52 473 829 109`) are not an id. */
const groupOfLonger = (m: RegExpExecArray): boolean =>
  /\d[ .\/-]$/.test(m.input.slice(Math.max(0, m.index - 2), m.index)) || /^[ .\/-]\d/.test(m.input.slice(m.index + m[0].length, m.index + m[0].length + 2));
/** The id's name within a short stretch before it, on the same line. */
const named = (m: RegExpExecArray, name: RegExp, reach = 60): boolean => {
  const before = m.input.slice(Math.max(0, m.index - reach), m.index);
  return name.test(before.slice(before.lastIndexOf('\n') + 1));
};

/**
 * One test per text however many detectors share the gate: the engine asks each detector's gate
 * in turn about the same text, and a dozen share the digit-run test.
 */
function shared(gate: Gate): Gate {
  let last: string | undefined;
  let result = false;
  return {
    test(text: string): boolean {
      if (text !== last) {
        result = gate.test(text);
        last = text;
      }
      return result;
    },
  };
}

// Token edges: not inside a longer word or number, a decimal, a path, a signed number or a range.
const START = String.raw`(?<![\w.+/-])`;
const END = String.raw`(?![\w+]|[./:-]\d)`;
const bare = (body: string, flags = 'g') => new RegExp(START + body + END, flags);

const SIX_DIGITS = shared(windowed(/\d{6}/, 6));
const NINE_GROUPED = shared(windowed(/\d{3}[-. ]?\d{2,3}[-. ]?\d{3,4}/, 12));

function digitRun(id: string, body: string, valid: (digits: string, m: RegExpExecArray) => boolean, gate: Gate = SIX_DIGITS, flags = 'g'): Detector {
  // The id's own rules first: nearly every digit run fails them, and then costs no look at its surroundings.
  return new RegexDetector(id, 'pii.national_id', 'pii', DIGITS, bare(body, flags), (m) => (valid(compact(m[0]), m) && !labelledOther(m) && !groupOfLonger(m) ? whole(m) : null), gate);
}

const SSN_NAME = /\b(?:ssn|ssns|social security|tin|taxpayer)\b[^\n]{0,30}$/i;
const ITIN_NAME = /\b(?:itin|tin|taxpayer|tax id)\b[^\n]{0,30}$/i;
const SIN_NAME = /\b(?:sin|nas|social insurance|assurance sociale)\b/i;
const THAI_NAME = /\b(?:thai|tnin)\b|เลขประจำตัว|บัตรประชาชน|\bnational id\b/i;
const CPF_NAME = /\bcpf\b/i;
const PERSONNUMMER_NAME = /personn(?:ummer|r)|\bpnr\b|samordningsnummer|personal (?:identity|id)|identity (?:code|number)|swedish id/i;
const PPS_NAME = /\bppsn?\b|personal public service/i;
const STEUER_ID_NAME = /steuer-?id|\bidnr\b|identifikationsnummer|\btin\b/i;
const EGN_NAME = /\begn\b|ЕГН|единен граждански/i;
const THIS_YEAR = new Date().getUTCFullYear();
const CURRENT_YEAR = THIS_YEAR % 100;
/**
 * Ten digits with a date and a check digit are still how epoch seconds (2014–2018 read as a date
 * of birth) and run-together phone numbers look, one in fifty. Taken on their own, such numbers
 * must be an adult's, born 18 to 105 years ago; a child's is found beside the id's name.
 */
const adultBorn = (year: number): boolean => year >= THIS_YEAR - 105 && year <= THIS_YEAR - 18;

/** Personal national ids, each with the checksum and numbering-plan rules that keep look-alikes quiet. */
export function nationalIdDetectors(): Detector[] {
  return [
    new RegexDetector(
      'pii-us-ssn',
      'pii.national_id',
      'pii',
      DIGITS,
      // 123-45-6789, 123 45 6789, 123.45.6789, or 9 bare digits beside the name.
      /(?<![\w.-])(\d{3})([-. ]?)(\d{2})\2(\d{4})(?![\w-]|\.\d)/g,
      (m) => {
        const [, area, sep, group, serial] = m as unknown as [string, string, string, string, string];
        if (!ssnValid(area, group, serial)) return null;
        // Nine bare digits are too often something else; without separators, only beside a cue.
        if (sep === '' && !named(m, SSN_NAME, 40)) return null;
        return whole(m);
      },
      // Windowed like the card gate: on a long run of 8-digit numbers one whole-text search passes V8's backtrack limit.
      NINE_GROUPED,
    ),
    new RegexDetector(
      'pii-us-itin',
      'pii.national_id',
      'pii',
      DIGITS,
      // An ITIN is SSN-shaped with area 9xx and its own group ranges.
      /(?<![\w.-])(9\d{2})([-. ]?)(\d{2})\2(\d{4})(?![\w-]|\.\d)/g,
      (m) => (itinValid(m[1]!, m[3]!) && (m[2] !== '' || named(m, ITIN_NAME, 40)) ? whole(m) : null),
      NINE_GROUPED,
    ),
    new RegexDetector(
      'pii-uk-nino',
      'pii.national_id',
      'pii',
      DIGITS,
      /(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Za-z0-9])/gi,
      (m) => (ninoValid(m[1]!) ? whole(m) : null),
      windowed(/[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]/i, 13),
    ),
    new RegexDetector(
      'pii-es-dni',
      'pii.national_id',
      'pii',
      DIGITS,
      // DNI 12345678Z, NIE X1234567L (a dash before the letter or after the X is common); the mod-23 letter must fit.
      /(?<![A-Za-z0-9-])((?:[XYZ]-?)?\d{7,8})-?([A-Z])(?![A-Za-z0-9])/gi,
      (m) => (dniValid(m[1]!.replace('-', '') + m[2]!) ? whole(m) : null),
      windowed(/\d{7}-?[A-Za-z]/, 9),
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
      (m) => (aadhaarValid(m[1]! + m[3]! + m[4]!) && named(m, /\b(?:aadhaa?r|uidai)\b[^\n]{0,40}$/i) ? whole(m) : null),
    ),
    // Finland: DDMMYY, a century sign, three digits and a check character (131052-308T).
    digitRun('pii-fi-hetu', String.raw`\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]`, (_, m) => hetuValid(m[0]), SIX_DIGITS, 'gi'),
    // Sweden: YYMMDD-NNNN (+ past 100), YYYYMMDD-NNNN, or the 10 or 12 digits run together. Run together they
    // must be an adult's (see adultBorn): a recent date and four digits is also how order numbers are made (1 in 11 passes).
    digitRun('pii-se-personnummer', String.raw`(?:18|19|20)?\d{6}[-+]?\d{4}`, (d, m) => {
      if (!personnummerValid(d)) return false;
      if (/[-+]/.test(m[0]) || named(m, PERSONNUMMER_NAME)) return true;
      const yy = Number(d.slice(d.length - 10, d.length - 8));
      return adultBorn(d.length === 12 ? Number(d.slice(0, 4)) : 2000 + yy <= THIS_YEAR ? 2000 + yy : 1900 + yy);
    }),
    // Norway: DDMMYY NNNNN, also written with a dash or in pairs (26 11 15 940 14).
    digitRun('pii-no-fodselsnummer', String.raw`(?:\d{6}[ -]?|\d\d \d\d \d\d )\d{3} ?\d{2}`, fodselsnummerValid, shared(windowed(/\d\d ?\d\d ?\d\d[ -]?\d{3} ?\d\d/, 16))),
    // Bulgaria: EGN, YYMMDD (month shifted by century) + region/serial + check.
    digitRun('pii-bg-egn', String.raw`\d{10}`, (d, m) => {
      if (!egnValid(d)) return false;
      const month = Number(d.slice(2, 4));
      return named(m, EGN_NAME) || adultBorn(1900 + Number(d.slice(0, 2)) + (month > 40 ? 100 : month > 20 ? -100 : 0));
    }),
    // Poland: PESEL. The 1800s and the 2100s+ month shifts are left out (no one alive or born yet), and so are births in the future.
    digitRun('pii-pl-pesel', String.raw`\d{11}`, (d) => {
      const month = Number(d.slice(2, 4));
      if (month > 32) return false;
      if (month > 20 && Number(d.slice(0, 2)) > CURRENT_YEAR) return false;
      return peselValid(d);
    }),
    // Estonia: isikukood; G 3–6, the 1900s and 2000s.
    digitRun('pii-ee-isikukood', String.raw`[3-6]\d{10}`, isikukoodValid),
    // Romania: CNP.
    digitRun('pii-ro-cnp', String.raw`[1-9]\d{12}`, cnpValid),
    // Turkey: T.C. Kimlik No, two check digits.
    digitRun('pii-tr-tckn', String.raw`[1-9]\d{10}`, tcknValid),
    // Germany: Steuer-ID, bare or as printed (12 345 678 903 → 2-3-3-3).
    // The digit-multiplicity rule leaves one random number in 25; beside its name the check digit alone will do.
    digitRun('pii-de-steuerid', String.raw`[1-9](?:\d{10}|\d (?:\d{3} ){2}\d{3})`, (d, m) => mod11_10(d) && (steuerIdValid(d) || named(m, STEUER_ID_NAME)), shared(windowed(/\d{2} ?\d{3} ?\d{3} ?\d{3}/, 14))),
    // Germany: Rentenversicherungsnummer, 12 345678 A 123 or run together.
    digitRun('pii-de-rvnr', String.raw`\d{2} ?\d{6} ?[A-Z] ?\d{3}`, rvnrValid),
    // South Africa: YYMMDD SSSS C A Z, run together or in its printed groups.
    digitRun('pii-za-id', String.raw`\d{6} ?\d{4} ?\d{2} ?\d`, zaIdValid),
    // China: resident id, 17 digits and a check digit or X.
    digitRun('pii-cn-ric', String.raw`\d{17}[\dX]`, ricValid, SIX_DIGITS, 'gi'),
    // Korea: YYMMDD-GNNNNNN. Since October 2020 the last six digits are random, so the dashed form of a
    // citizen's number (G 1–4) is taken on its date; a foreigner's (G 5–8) and the bare 13 digits also need the check digit.
    digitRun('pii-kr-rrn', String.raw`\d{6}-?[1-8]\d{6}`, (d, m) => rrnValid(d, !(m[0].includes('-') && Number(d[6]) <= 4))),
    // Thailand: 1-2345-67890-12-3 as printed (dashes or spaces), or 13 digits beside its name.
    digitRun(
      'pii-th-pin',
      String.raw`[1-8](?:([- ])\d{4}\1\d{5}\1\d{2}\1|\d{11})\d`,
      (d, m) => thaiPinValid(d) && (m[1] !== undefined || named(m, THAI_NAME)),
      shared(windowed(/\d[- ]?\d{4}[- ]?\d{5}[- ]?\d\d[- ]?\d/, 17)),
    ),
    // Canada: SIN, only beside its name: Luhn alone passes one in ten, and a French SIREN (552 120 222) is printed the same way and always passes it.
    digitRun('pii-ca-sin', String.raw`\d{3}([- ]?)\d{3}\1\d{3}`, (d, m) => sinValid(d) && named(m, SIN_NAME), NINE_GROUPED),
    // Ireland: PPS, 7 digits, a check letter and a second letter; the older one-letter form passes 1 in 23 and needs its name.
    digitRun('pii-ie-pps', String.raw`\d{7}[A-W][ABHWTX]?`, (d, m) => ppsValid(d) && (d.length === 9 || named(m, PPS_NAME))),
    // Brazil: CPF as printed, 123.456.789-09; eleven bare digits only beside its name.
    digitRun('pii-br-cpf', String.raw`\d{3}(\.?)\d{3}\1\d{3}-?\d{2}`, (d, m) => cpfValid(d) && (m[1] === '.' || named(m, CPF_NAME)), shared(windowed(/\d{3}\.?\d{3}\.?\d{3}-?\d\d/, 14))),
    // Italy: codice fiscale, 16 letters and digits with a date, a place and a check letter.
    new RegexDetector(
      'pii-it-codice-fiscale',
      'pii.national_id',
      'pii',
      DIGITS,
      /(?<![A-Za-z0-9])[A-Z]{6}[0-9L-NP-V]{2}[ABCDEHLMPRST][0-9L-NP-V]{2}[A-Z][0-9L-NP-V]{3}[A-Z](?![A-Za-z0-9])/gi,
      (m) => (codiceFiscaleValid(m[0]) ? whole(m) : null),
      shared(windowed(/\d[ABCDEHLMPRST][0-9L-NP-V]{2}[A-Z]/i, 5)),
    ),
    // Mexico: CURP, 18 letters and digits with a date, sex, state and check digit.
    new RegexDetector(
      'pii-mx-curp',
      'pii.national_id',
      'pii',
      DIGITS,
      /(?<![A-Za-z0-9])[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A-Z]\d(?![A-Za-z0-9])/gi,
      (m) => (curpValid(m[0]) ? whole(m) : null),
      windowed(/\d{6}[HM][A-Z]{5}/i, 12),
    ),
  ];
}
