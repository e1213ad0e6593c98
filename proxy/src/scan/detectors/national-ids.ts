import { DIGITS, type Gate, windowed } from './gates.js';
import {
  aadhaarValid, mod11_10, codiceFiscaleValid, cnpValid, cpfValid, curpValid, dniValid, egnValid, fodselsnummerValid, hetuValid, isikukoodValid, itinValid,
  ninoValid, nirValid, jmbgValid, kennitalaValid, mxRfcValid, myNricValid, lkNicValid, twIdValid, hkidValid, beNnValid, frSpiValid, cuilValid, peselValid, personnummerValid, ppsValid, ricValid, rrnValid, rvnrValid, sgNricValid, sinValid, ssnValid, steuerIdValid, tcknValid, thaiPinValid, zaIdValid,
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
 *   YYMMDD-GNNNNNN, SE YYMMDD-NNNN, SIN 123 456 789, Aadhaar 2345 6789 0123), or digits that must
 *   hold a real date of birth, a region code and check digits (ZA, CN, RO, EE, NO, PL, TR,
 *   Steuer-ID), which leaves about one random number of that length in a hundred or fewer. Ten or
 *   twelve digits with a date (BG, SE) only if the date is an adult's: see adultBorn.
 * - The SIN's and Aadhaar's printed groupings are the loosest of these: any 3-3-3 (space or dash)
 *   or 4-4-4 (spaces, as on the card) group passes the checksum and first digit one time in 12.
 *   They are taken because the grouping is the id's own, and kept from the look-alikes that share
 *   it: a French SIREN (always Luhn-valid) beside its register or tax words (SIREN, RCS, TVA…),
 *   before a SIRET's NIC group or after a VAT number's country code; a sum (a currency before or
 *   after, decimals after); a phone after a phone word (`telefon`, `móvil`…); a card number's
 *   groups, masked or not; and any group with a neighbour printed the same way that fails the
 *   check (a column of sums or phones, where a list of ids passes whole). Measured on 20,000
 *   random texts of each: 3-3-3 or 4-4-4 digits alone 8–9%; a Polish, Czech or Portuguese mobile
 *   printed 3-3-3 with no word before it 7.5–10%; a 9-digit count with no currency 8.6%; a SIREN
 *   with nothing beside it 89%; each of those with its cue, in a list of five, or a card's or
 *   AWS account's twelve digits 0%. Dashed or bare twelve digits (a UPC, an AWS account, an
 *   Indian mobile with its 91) stay beside Aadhaar's name.
 * - Only beside their name: forms whose rules are a checksum alone, passing one number in ten or
 *   more — nine bare digits (SSN, ITIN, SIN), Aadhaar run together or dashed (Verhoeff), thirteen
 *   bare Thai digits (one mod-11 digit; millisecond timestamps fall in valid province codes and
 *   EAN-13 codes in the others), eleven bare CPF digits, one-letter PPS and a DNI without its
 *   leading zero (one in 23). Beside its name, a word run into the number is forgiven
 *   (`är194506122342`). The name counts on the number's line or the line above, in any case,
 *   as a word or a key (`"aadhaar_no":`, `userSin`), never inside a longer word (`ASIN`).
 * - Never a number the text calls an order, invoice, tracking or phone number or a time, nor a
 *   group of a longer grouped number.
 */

const whole = (m: RegExpExecArray): Span => ({ start: m.index, end: m.index + m[0].length });
const compact = (s: string): string => s.replace(/[\s.+-]/g, '');

/**
 * A number the text calls an order, invoice, tracking or phone number, or a time (`"created_at": 1718093682`), is that.
 * Phone words in the languages whose mobiles are printed 3-3-3 like a SIN (`telefon 512 345 678`, `móvil 612 345 678`).
 */
const ID_CUE =
  /(?:\b(?:order|invoice|tracking|ref|reference|sku|isbn|gtin|ean|upc|ticket|case|serial|part|account|acct|phones?|call|sms|tel|telef\w*|telephone|téléphone|teléfono|mobile?|mobil|móvil|movil|cell\w*|celular|handy|whatsapp|gsm|kom[oó]rk\w*|fax|ts|epoch|iat|exp|nbf)|time(?:stamp)?|date|_at)\b\W{0,4}(?:no\.?|number|#)?\W{0,3}$/i;
const labelledOther = (m: RegExpExecArray): boolean => ID_CUE.test(m.input.slice(Math.max(0, m.index - 30), m.index));
/**
 * Groups of a longer grouped number (a SIRET, a VAT or organisation number: `473 829 109 00007`, `FR 52 473 829 109`) are
 * not an id, nor are the groups of a card number whose other digits are masked (`**** 4111 1111 1111`). A European VAT
 * number's country code counts as its first group: `FR 52 473 829 109` is also how a Steuer-ID is printed.
 */
const groupOfLonger = (m: RegExpExecArray): boolean =>
  /(?:\d|[*•xX]{2})[ .\/-]$|(?<![A-Za-z])(?:A[T]|B[EG]|C[HYZ]|D[EK]|E[ELS]|F[IR]|GB|H[RU]|I[ET]|L[TUV]|MT|N[LO]|P[LT]|RO|S[EIK]|XI) $/.test(m.input.slice(Math.max(0, m.index - 4), m.index)) ||
  /^[ .\/-](?:\d|[*•xX]{2})/.test(m.input.slice(m.index + m[0].length, m.index + m[0].length + 3));

/**
 * An id's name as people and programs write it, in any case: a word in prose (`SIN:`), a key
 * (`"aadhaar_no":`, `sin_number`, `userSin`, `aadhaarNumber`), never letters inside a longer word
 * (`using`, `ASIN`, `SINGAPORE`). A space in a name may be written `_`, `-` or not at all.
 * Words are regex source in lower case; escapes and classes in them are kept as written.
 * `others`: names in other scripts, written as they are cased.
 */
function nameCue(words: readonly string[], others?: string): RegExp {
  const anyCase = (w: string) => w.replace(/\\.|\[[^\]]*\]|[a-z ]/g, (c) => (c === ' ' ? '[ _-]?' : c.length > 1 ? c : `[${c}${c.toUpperCase()}]`));
  const word = String.raw`(?:(?<![A-Za-z0-9])|(?<=[a-z])(?=[A-Z]))(?:${words.map(anyCase).join('|')})(?![a-z])(?![A-Z](?![a-z]))`;
  return new RegExp(others ? `${word}|${others}` : word);
}
/** The id's name within a short stretch before it, on its line or the line above (a heading, a label on its own line). */
const named = (m: RegExpExecArray, name: RegExp, reach = 60): boolean => {
  const before = m.input.slice(Math.max(0, m.index - reach), m.index);
  const lineBreak = before.lastIndexOf('\n');
  return name.test(lineBreak <= 0 ? before : before.slice(before.lastIndexOf('\n', lineBreak - 1) + 1));
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
// For an id with a name: a word run into the number (`is199003052397`), allowed beside that name.
const GLUED_START = String.raw`(?<![\d.+/-])`;
const END = String.raw`(?![\w+]|[./:-]\d)`;

const SIX_DIGITS = shared(windowed(/\d{6}/, 6));
const NINE_GROUPED = shared(windowed(/\d{3}[-. ]?\d{2,3}[-. ]?\d{3,4}/, 12));

interface RunOptions {
  /** The id's name (see nameCue): beside it a weaker form may do, and a word run into the number is forgiven. */
  name?: RegExp;
  gate?: Gate;
  flags?: string;
}

/** `valid` gets the digits, the match, and whether the id's name is near (asked only when needed). */
type RunCheck = (digits: string, m: RegExpExecArray, isNamed: () => boolean) => boolean;

function digitRun(id: string, body: string, valid: RunCheck, { name, gate = SIX_DIGITS, flags = 'g' }: RunOptions = {}): Detector {
  const re = new RegExp((name ? GLUED_START : START) + body + END, flags);
  // The id's own rules first: nearly every digit run fails them, and then costs no look at its surroundings.
  return new RegexDetector(id, 'pii.national_id', 'pii', DIGITS, re, (m) => {
    const isNamed = () => name !== undefined && named(m, name);
    if (!valid(compact(m[0]), m, isNamed) || labelledOther(m) || groupOfLonger(m)) return null;
    return m.index > 0 && /\w/.test(m.input[m.index - 1]!) && !isNamed() ? null : whole(m);
  }, gate);
}

const SSN_NAME = nameCue(['ssns?', 'social security', 'tin', 'taxpayer']);
const ITIN_NAME = nameCue(['itin', 'tin', 'taxpayer', 'tax id']);
const SIN_NAME = nameCue(['sin', 'nas', 'social insurance', 'assurance sociale']);
const AADHAAR_NAME = nameCue(['aadhaa?r', 'uidai'], 'आधार');
const THAI_NAME = nameCue(['thai', 'tnin', 'national id'], 'เลขประจำตัว|บัตรประชาชน');
const CPF_NAME = nameCue(['cpf']);
const DNI_NAME = nameCue(['dni', 'nif', 'documento nacional', 'd\\.n\\.i']);
const PERSONNUMMER_NAME = nameCue(['personnummer', 'personnumret', 'personnr', 'pnr', 'samordningsnummer', 'personal identity', 'personal id', 'identity code', 'identity number', 'swedish id']);
const PPS_NAME = nameCue(['ppsn?', 'personal public service']);
const STEUER_ID_NAME = nameCue(['steuer id', 'steueridentifikationsnummer', 'idnr', 'identifikationsnummer', 'tin']);
const BE_NN_NAME = nameCue(['rijksregister\\w*', 'registre national', 'national number', 'num[eé]ro national', 'insz', 'niss', 'nn']);
const JMBG_NAME = nameCue(['jmbg', 'emšo', 'emso', 'mati[cč]ni broj', 'mati[cč]na [sš]tevilka', 'personal number', 'personal identification number'], 'ЈМБГ|ЕМБГ|EMŠO|Emšo|MATIČNI BROJ|Matični broj');
const EGN_NAME = nameCue(['egn'], 'ЕГН|егн|[Ее]динен граждански');
/**
 * What a French company's SIREN (always Luhn-valid, printed 3-3-3 like a SIN), a Canadian business
 * number or a Norwegian organisation number is written beside: its register, its tax number, its name.
 */
const COMPANY_NAME = nameCue(['siren', 'siret', 'rcs', 'r\\.c\\.s', 'tva', 'vat', 'naf', 'ape', 'immatricul[a-zA-Zéèê]*', 'entreprise', 'soci[eéEÉ]t[eéEÉ]', 'registre', 'business number', 'bn', 'neq', 'org nr', 'orgnr', 'organisasjonsnummer', 'mva']);
/** A sum: a currency just before or after, or decimals after (`€ 123 456 789`, `123 456 789,00 zł`). */
const CURRENCY_BEFORE = /(?:[$€£¥₹₽]|\b(?:eur|usd|cad|chf|gbp|pln|czk|sek|nok|dkk|huf|rub|inr|rs)\.?)\s?$/i;
const CURRENCY_AFTER = /^(?:[.,]\d|\s?(?:[$€£¥₹₽%]|(?:eur|euros?|usd|cad|dollars?|chf|gbp|pln|zł|z[lł]otych|czk|kč|sek|nok|dkk|kr|huf|ft|forint|rub|руб|inr|rs|rupees?)(?![a-z])))/i;
const amount = (m: RegExpExecArray): boolean =>
  CURRENCY_BEFORE.test(m.input.slice(Math.max(0, m.index - 6), m.index)) || CURRENCY_AFTER.test(m.input.slice(m.index + m[0].length, m.index + m[0].length + 12));
/**
 * Another number printed the same way close by that fails the id's check: a column of sums or
 * phone numbers, one in ten of which passes a checksum by chance, not a list of ids (each of which passes).
 */
function besideFailing(m: RegExpExecArray, shape: RegExp, valid: (digits: string) => boolean, reach = 200): boolean {
  const from = Math.max(0, m.index - reach);
  const near = m.input.slice(from, m.index + m[0].length + reach);
  shape.lastIndex = 0;
  for (let n = shape.exec(near); n; n = shape.exec(near)) if (from + n.index !== m.index && !valid(compact(n[0]))) return true;
  return false;
}
const SIN_PRINTED = new RegExp(START + String.raw`\d{3}([- ])\d{3}\1\d{3}` + END, 'g');
const AADHAAR_PRINTED = new RegExp(START + String.raw`\d{4} \d{4} \d{4}` + END, 'g');

/** Letters that follow a company's number: Norway's `MVA`, a Canadian business number's program account (`RT0001`). */
const COMPANY_SUFFIX = /^\s?(?:mva|r[tcpr]\d)/i;
/** A SIN-shaped group that is a company's number or a sum. */
const printedOther = (m: RegExpExecArray): boolean =>
  amount(m) || COMPANY_SUFFIX.test(m.input.slice(m.index + m[0].length, m.index + m[0].length + 5)) || named(m, COMPANY_NAME);
const THIS_YEAR = new Date().getUTCFullYear();
const CURRENT_YEAR = THIS_YEAR % 100;
/**
 * Ten digits with a date and a check digit are still how epoch seconds (2014–2018 read as a date
 * of birth) and run-together phone numbers look, one in fifty. Taken on their own, such numbers
 * must be an adult's, born 18 to 105 years ago; a child's is found beside the id's name.
 */
const adultBorn = (year: number): boolean => year >= THIS_YEAR - 105 && year <= THIS_YEAR - 18;

/** Personal national ids, each with the checksum and numbering-plan rules that keep look-alikes quiet. */
/** Singapore's id named before it: `NRIC`, `FIN`, `UIN`, `IC no.`, `identity card`, or the country. */
const SG_ID_NAMED = /\b(?:NRIC|FIN|UIN|IC[ \t]*(?:no\.?|number)|identity[ \t]+card|Singapore(?:an)?)\b[^\n]{0,40}$/i;

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
      // A DNI written without its leading zero (1234567L) passes one time in 23 like a one-letter PPS: beside its name.
      /(?<![A-Za-z0-9-])((?:[XYZ]-?)?\d{7,8})-?([A-Z])(?![A-Za-z0-9])/gi,
      (m) => {
        const number = m[1]!.replace('-', '');
        if (dniValid(number + m[2]!)) return whole(m);
        return /^\d{7}$/.test(number) && dniValid('0' + number + m[2]!) && named(m, DNI_NAME) ? whole(m) : null;
      },
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
    // India: Aadhaar, as printed on the card (2345 6789 0123) on its own; run together or dashed, twelve digits
    // are as often a barcode or a phone with its country code, and pass Verhoeff one time in ten: beside the name only.
    digitRun('pii-in-aadhaar', String.raw`[2-9]\d{3}([ -]?)\d{4}\1\d{4}`, (d, m, isNamed) => aadhaarValid(d) && ((m[1] === ' ' && !amount(m) && !besideFailing(m, AADHAAR_PRINTED, aadhaarValid)) || isNamed()), {
      name: AADHAAR_NAME,
      gate: shared(windowed(/\d{4}[ -]?\d{4}[ -]?\d{4}/, 14)),
    }),
    // Finland: DDMMYY, a century sign, three digits and a check character (131052-308T).
    digitRun('pii-fi-hetu', String.raw`\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]`, (_, m) => hetuValid(m[0]), { flags: 'gi' }),
    // Sweden: YYMMDD-NNNN (+ past 100), YYYYMMDD-NNNN, or the 10 or 12 digits run together. Run together they
    // must be an adult's (see adultBorn): a recent date and four digits is also how order numbers are made (1 in 11 passes).
    // Twelve digits name their century, and a YYYYMMDDhhmm stamp is never dated a century back: there, any adult's year.
    // An interim number's letter in the serial (`000101-S220`) is its own mark.
    digitRun('pii-se-personnummer', String.raw`(?:18|19|20)?\d{6}[-+]?[\dTRSUWXJKLMN]\d{3}`, (d, m, isNamed) => {
      if (!personnummerValid(d)) return false;
      if (/[-+A-Z]/.test(m[0]) || isNamed()) return true;
      if (d.length === 12) return Number(d.slice(0, 4)) <= THIS_YEAR - 18;
      const yy = Number(d.slice(0, 2));
      return adultBorn(2000 + yy <= THIS_YEAR ? 2000 + yy : 1900 + yy);
    }, { name: PERSONNUMMER_NAME }),
    // Norway: DDMMYY NNNNN, also written with a dash or in pairs (26 11 15 940 14).
    digitRun('pii-no-fodselsnummer', String.raw`(?:\d{6}[ -]?|\d\d \d\d \d\d )\d{3} ?\d{2}`, fodselsnummerValid, { gate: shared(windowed(/\d\d ?\d\d ?\d\d[ -]?\d{3} ?\d\d/, 16)) }),
    // Bulgaria: EGN, YYMMDD (month shifted by century) + region/serial + check.
    digitRun('pii-bg-egn', String.raw`\d{10}`, (d, _, isNamed) => {
      if (!egnValid(d)) return false;
      const month = Number(d.slice(2, 4));
      return adultBorn(1900 + Number(d.slice(0, 2)) + (month > 40 ? 100 : month > 20 ? -100 : 0)) || isNamed();
    }, { name: EGN_NAME }),
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
    // The digit-multiplicity rule leaves one random number in 25; beside its name the check digit alone will do. An id
    // made up for an example (12345678903: ten different digits, which no issued id has) still has its check digit
    // computed, and only one random number in 28,000 is like it.
    digitRun(
      'pii-de-steuerid',
      String.raw`[1-9](?:\d{10}|\d (?:\d{3} ){2}\d{3})`,
      (d, _, isNamed) => mod11_10(d) && (steuerIdValid(d) || new Set(d.slice(0, 10)).size === 10 || isNamed()),
      { name: STEUER_ID_NAME, gate: shared(windowed(/\d{2} ?\d{3} ?\d{3} ?\d{3}/, 14)) },
    ),
    // Germany: Rentenversicherungsnummer, 12 345678 A 123 or run together.
    digitRun('pii-de-rvnr', String.raw`\d{2} ?\d{6} ?[A-Z] ?\d{3}`, rvnrValid),
    // South Africa: YYMMDD SSSS C A Z, run together or in its printed groups.
    digitRun('pii-za-id', String.raw`\d{6} ?\d{4} ?\d{2} ?\d`, zaIdValid),
    // China: resident id, 17 digits and a check digit or X.
    digitRun('pii-cn-ric', String.raw`\d{17}[\dX]`, ricValid, { flags: 'gi' }),
    // Korea: YYMMDD-GNNNNNN. Since October 2020 the last six digits are random, so the dashed form of a
    // citizen's number (G 1–4) is taken on its date; a foreigner's (G 5–8) and the bare 13 digits also need the check digit.
    digitRun('pii-kr-rrn', String.raw`\d{6}-?[1-8]\d{6}`, (d, m) => rrnValid(d, !(m[0].includes('-') && Number(d[6]) <= 4))),
    // Thailand: 1-2345-67890-12-3 as printed (dashes or spaces), or 13 digits beside its name.
    digitRun(
      'pii-th-pin',
      String.raw`[1-8](?:([- ])\d{4}\1\d{5}\1\d{2}\1|\d{11})\d`,
      (d, m, isNamed) => thaiPinValid(d) && (m[1] !== undefined || isNamed()),
      { name: THAI_NAME, gate: shared(windowed(/\d[- ]?\d{4}[- ]?\d{5}[- ]?\d\d[- ]?\d/, 17)) },
    ),
    // Canada: SIN, in its printed groups (046 454 286, 046-454-286) on its own, nine bare digits beside its name.
    // Not a company's number (a French SIREN is printed the same way and always passes Luhn), nor a sum.
    digitRun(
      'pii-ca-sin',
      String.raw`\d{3}([- ]?)\d{3}\1\d{3}`,
      (d, m, isNamed) => sinValid(d) && (isNamed() || (m[1] !== '' && !printedOther(m) && !besideFailing(m, SIN_PRINTED, sinValid))),
      { name: SIN_NAME, gate: NINE_GROUPED },
    ),
    // Ireland: PPS, 7 digits, a check letter and a second letter; the older one-letter form passes 1 in 23 and needs its name.
    digitRun('pii-ie-pps', String.raw`\d{7}[A-W][ABHWTX]?`, (d, _, isNamed) => ppsValid(d) && (d.length === 9 || isNamed()), { name: PPS_NAME }),
    // Brazil: CPF as printed, 123.456.789-09; eleven bare digits only beside its name.
    digitRun('pii-br-cpf', String.raw`\d{3}(\.?)\d{3}\1\d{3}-?\d{2}`, (d, m, isNamed) => cpfValid(d) && (m[1] === '.' || isNamed()), {
      name: CPF_NAME,
      gate: shared(windowed(/\d{3}\.?\d{3}\.?\d{3}-?\d\d/, 14)),
    }),
    // Former Yugoslavia: JMBG / EMŠO, thirteen digits holding a birth date, a region and a mod-11 check digit;
    // beside its name only (a millisecond timestamp of 2023–2024 passes the date and the check one time in 250).
    digitRun('pii-jmbg', String.raw`\d{13}`, (d, _, isNamed) => jmbgValid(d) && isNamed(), { name: JMBG_NAME }),
    // Malaysia: MyKad as printed, YYMMDD-PB-###G (a date and a place-of-birth code).
    digitRun('pii-my-nric', String.raw`\d{6}-\d{2}-\d{4}`, myNricValid),
    // Iceland: kennitala as printed, DDMMYY-RRCM, with its check digit and century.
    digitRun('pii-is-kennitala', String.raw`\d{6}-\d{4}`, (d) => kennitalaValid(d)),
    // Pakistan: CNIC as printed, 5-7-1 with dashes (a province digit 1–7 first); no other number is grouped so.
    digitRun('pii-pk-cnic', String.raw`[1-7]\d{4}-\d{7}-\d`, () => true),
    // Sri Lanka: the old NIC, nine digits (year, day of the year) and V or X.
    digitRun('pii-lk-nic', String.raw`\d{9}[VXvx]`, (_, m) => lkNicValid(m[0])),
    // Taiwan: a letter, sex 1 or 2 and eight digits with a check digit.
    new RegexDetector('pii-tw-id', 'pii.national_id', 'pii', DIGITS, /(?<![A-Za-z0-9])[A-Z][12]\d{8}(?![A-Za-z0-9])/g, (m) => (twIdValid(m[0]) ? whole(m) : null), SIX_DIGITS),
    // Singapore: NRIC and FIN, a prefix letter, seven digits and a check letter (S1234567D), beside their name or Singapore's: the
    // check letter passes one code in eleven, and Spain's public bodies' CIFs (S2871253G) and order codes share the shape.
    new RegexDetector('pii-sg-nric', 'pii.national_id', 'pii', ['nric', 'fin', 'uin', 'singapore', 'identity card', 'ic no', 'ic number'], /(?<![A-Za-z0-9])[STFGM]\d{7}[A-Z](?![A-Za-z0-9])/g, (m) =>
      sgNricValid(m[0]) && SG_ID_NAMED.test(m.input.slice(Math.max(0, m.index - 60), m.index)) ? whole(m) : null,
    ),
    // Hong Kong: HKID with its check digit in brackets as printed (`A123456(3)`).
    new RegexDetector(
      'pii-hk-hkid',
      'pii.national_id',
      'pii',
      DIGITS,
      /(?<![A-Za-z0-9])[A-Z]{1,2}\d{6}[([][0-9A][)\]]/gi,
      (m) => (hkidValid(m[0].replace(/[()[\]]/g, '')) ? whole(m) : null),
      SIX_DIGITS,
    ),
    // Belgium: national number as printed, 85.07.30-033.28, on its own; eleven bare digits (a date and a
    // mod-97 pair: one random number in 300 passes, as do padded ids) only beside its name.
    digitRun('pii-be-nn', String.raw`\d{2}(\.?)\d{2}\1\d{2}[-.]?\d{3}\.?\d{2}`, (d, m, isNamed) => beNnValid(d.replace(/\D/g, '')) && (m[1] === '.' || isNamed()), {
      name: BE_NN_NAME,
      gate: shared(windowed(/\d\d\.?\d\d\.?\d\d/, 8)),
    }),
    // France: numéro fiscal, 13 digits whose last three are the first ten mod 511, bare or printed 30 23 217 600 053.
    digitRun('pii-fr-spi', String.raw`[0-3]\d(?:( )\d{2}\1\d{3}\1\d{3}\1|\d{8})\d{3}`, frSpiValid, { gate: shared(windowed(/\d\d \d\d \d{3} \d{3}|\d{6}/, 13)) }),
    // Argentina: a person's CUIL (20, 23, 24, 27 first; companies' CUITs start 30–34), dashed or bare.
    digitRun('pii-ar-cuil', String.raw`2[0347](-?)\d{8}\1\d`, cuilValid),
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
    // Mexico: RFC of a person, four letters of the name, the birth date and a homoclave with a check character.
    new RegexDetector(
      'pii-mx-rfc',
      'pii.national_id',
      'pii',
      DIGITS,
      /(?<![A-Za-z0-9])[A-ZÑ&]{4}([ -]?)\d{6}\1[A-Z0-9]{2}[0-9A](?![A-Za-z0-9])/g,
      (m) => (mxRfcValid(m[0]) ? whole(m) : null),
      shared(windowed(/[A-Z]{4}[ -]?\d{6}/, 11)),
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
