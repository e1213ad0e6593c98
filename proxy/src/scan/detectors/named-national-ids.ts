import { type Gate, windowed } from './gates.js';
import { cnpValid, cpfValid, dniValid, egnValid, jmbgValid, ninoValid, nirValid, peselValid, plIdCardValid, sinValid, ssnValid, tcknValid } from './national-id-validators.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';

/*
 * A personal identity number after the name of one: `Sozialversicherungsnummer: 756.9203.3850.60`,
 * `Cédula Única de Identidad: 10117410-2`, `NID: M090497290349B`, `ИНН: 366220664163`. The ids with
 * a structure or a checksum strong enough to stand alone are found by national-ids.ts wherever
 * they are; this finds the rest of the world's ids (some two hundred schemes, most a checksum of a
 * few digits at best) where the text itself says what the number is, as a form, a record or a
 * letter does. The name must end right before the value (a colon, `is`, `no.` between), so a
 * sentence that mentions an id and later gives some number does not count.
 */

/** Names of a personal id, in lower case (matched in any case); a space may be written `_`, `-` or not at all. */
const NAMES = [
  // English, as forms and the ids' own names put it
  'national (?:id|identity|identification|insurance|registration)(?: card| document)?(?: number| no\\.?| code)?',
  'identity (?:card|document|number|code)(?: number| no\\.?)?',
  'identification (?:number|no\\.?|code|card number)',
  'personal (?:id|identity|identification|public service|code|number)(?: card)?(?: number| no\\.?| code)?',
  'citizen(?:ship)? (?:id|identity|identification|card|number)(?: card)?(?: number| no\\.?)?',
  'social (?:security|insurance)(?: number| no\\.?| code)?',
  'health (?:insurance|card|service|care)(?: number| no\\.?)',
  'resident (?:registration|identity|card|permit)(?: number| no\\.?)?',
  'foreigners?\\W? (?:id|identification|registration)(?: card)?(?: number)?',
  'birth number',
  'id (?:card )?(?:number|no\\.?)',
  'tax (?:code|identification number|file number)',
  'taxpayer (?:id|identification|registration)(?: number| no\\.?)?',
  'voter(?:\\W?s)? (?:id|card|identity)(?: card)?(?: number)?',
  'virtual id(?:entity)?(?: number)?',
  // Other languages, in their own spelling
  '(?:sozial)?versicherungsnummer',
  'personalausweis(?:nummer)?',
  'ausweisnummer',
  'steuer\\W?(?:id|identifikationsnummer|nummer)',
  'identifikationsnummer',
  'personenkennzeichen',
  'num[eé]ro (?:de s[eé]curit[eé] sociale|d\\W?identification|d\\W?identit[eé]|national|fiscal(?: de r[eé]f[eé]rence)?|d\\W?inscription au r[eé]pertoire|bis)',
  "carte (?:d\\W?identit[eé]|vitale)(?: n[°o]\\.?)?",
  'n[uú]mero (?:de )?(?:identifica[cç][aã]o|identidad|documento|c[eé]dula|seguridad social|seguran[cç]a social|contribuinte|cart[aã]o de cidad[aã]o|cidad[aã]o|identifica[cç][aã]o fiscal|identificaci[oó]n)',
  'c[eé]dula(?: de (?:identidad|ciudadan[ií]a|identidade|extranjer[ií]a))?(?: [uú]nica(?: de identidad)?)?',
  'carn[eé] de extranjer[ií]a',
  'documento (?:nacional )?de identi(?:dad|ficaci[oó]n|dade)',
  'c[oó]digo [uú]nico de identificaci[oó]n',
  'cart[aã]o de cidad[aã]o',
  'bilhete de identidade',
  'registro (?:civil|nacional)',
  'burgerservicenummer',
  'sofi\\W?nummer',
  'onderwijsnummer',
  'rijksregisternummer',
  'personnumm?er',
  'f[øo]dselsnumm?er',
  'henkil[öo]tunnus',
  'kennitala',
  'cpr\\W?nummer',
  'personas kods',
  'asmens kodas',
  'isikukood',
  'rodn[eé] [cč][ií]slo',
  'osobn[ií] [cč][ií]slo',
  'codice fiscale',
  "carta d\\W?identit[aà]",
  'kimlik (?:no|numaras[ıi])',
  'mat[ií]cn[ií] (?:broj|[sš]tevilka)',
  'jmbg',
  'emšo|emso',
];

/**
 * Abbreviations of personal ids, matched in capitals only, and not those that name other things as
 * often (`CI` a build, `UID` a Unix user, `CC` a copy). Not those national-ids.ts checks by their own rules beside their names (SSN, SIN, NINO,
 * DNI, NIE, NIR, CURP, RRN, PPS…): a number named so that fails its check is none. PESEL, CPF, CNP, EGN and TCKN are here for
 * the groupings their own detectors do not read (`PESEL: 750102-50596`), judged by their own checks (failsItsOwnCheck).
 */
const ACRONYMS = [
  'PESEL', 'CPF', 'CNP', 'EGN', 'TCKN', 'NID', 'CNIC', 'NRIC', 'BSN', 'CUI', 'BI', 'NIN', 'OIB', 'AMKA', 'AHV', 'AVS', 'RNOKPP', 'INN', 'SNILS', 'EPIC', 'VID', 'RUT', 'RUN',
  'DUI', 'DPI', 'CIN', 'CPR', 'KTP', 'NIK', 'UIN', 'CIC',
];

/** Names in scripts other than Latin, as they are written. */
const OTHER_SCRIPTS = [
  'EMŠO', 'ИНН', 'СНИЛС', 'ЕГН', 'ЕМБГ', 'ЈМБГ', 'идентификационный номер', 'номер паспорта', 'реєстраційний номер облікової картки платника податків',
  'ідентифікаційний (?:код|номер)', 'РНОКПП', '身分證(?:字號|號碼)?', '身份证(?:号码?)?', '居民身份证', 'マイナンバー', '個人番号', '주민등록번호',
  '외국인등록번호', 'आधार(?: संख्या)?', 'เลขประจำตัวประชาชน', 'תעודת זהות', 'رقم الهوية', 'الرقم الوطني', 'الرقم القومي',
];

const anyCase = (w: string) => w.replace(/ /g, '[ _-]?');
/** Between the name and the value: a bracketed abbreviation, then `:`, `=`, `#`, a table's `|`, `is`, `no.`, `nr`, `№` (or only spaces). */
const BETWEEN = String.raw`["']?[ \t]{0,4}(?:\([^()\n]{1,24}\)[ \t]{0,4})?(?:(?:[:：=#№|]|n[º°o]\.?|nr\.?|no\.?|is|ist|est|es|é)[ \t]{0,4}){0,2}["'“«]?`;
/** The value: letters and digits with single separators (a space only before a digit: `issued in Dhaka` is no part of it), 6 to 26 characters. */
const VALUE = String.raw`([A-Za-z0-9](?:[A-Za-z0-9]|[.\/-](?=[A-Za-z0-9])| (?=\d)){5,25})(?![A-Za-z0-9]|[.\/-][A-Za-z0-9])`;

const WORD_NAMES = new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${NAMES.map(anyCase).join('|')})(?![\p{L}\p{N}])${BETWEEN}${VALUE}`, 'giu');
const ACRONYM_NAMES = new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${ACRONYMS.join('|')})(?![\p{L}\p{N}])${BETWEEN}${VALUE}`, 'gu');
const SCRIPT_NAMES = new RegExp(String.raw`(?:${OTHER_SCRIPTS.join('|')})${BETWEEN}${VALUE}`, 'giu');

/** An id's shape: six digits or more, few letters, and not a date, a time, a sum or a digit typed over and over. */
function idShaped(value: string): boolean {
  const digits = value.replace(/\D/g, '');
  const letters = value.replace(/[^A-Za-z]/g, '').length;
  if (digits.length < 6 || letters > 4 || letters > digits.length / 2) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  // A date written as one number (`20231115`) is no id.
  if (/^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/.test(value)) return false;
  if (/^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$/.test(value)) return false;
  return !/^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(value);
}

/**
 * A value in the shape of an id that has a check of its own is judged by that check, whatever name
 * stands before it: `SSN 123-45-0000` is no SSN, `DNI 26842125E` no DNI (the wrong letter).
 */
function failsItsOwnCheck(value: string, m: RegExpExecArray): boolean {
  let s: RegExpExecArray | null;
  if ((s = /^(\d{3})-(\d{2})-(\d{4})$/.exec(value))) return !ssnValid(s[1]!, s[2]!, s[3]!);
  if (/^\d{3}([ -])\d{3}\1\d{3}$/.test(value)) return !sinValid(value.replace(/\D/g, ''));
  if ((s = /^([A-Z]{2}) ?\d{2} ?\d{2} ?\d{2} ?([A-Z])$/i.exec(value))) return !(ninoValid(s[1]!.toUpperCase()) && /^[A-D]$/i.test(s[2]!));
  if (/^[XYZ]?\d{7,8}[A-Z]$/i.test(value)) return !dniValid(value.toUpperCase());
  const digits = value.replace(/\D/g, '');
  if (/^[12]\d{14}$/.test(digits) && /^[\d ]+$/.test(value)) return !nirValid(digits);
  const name = m[0].slice(0, m[0].length - value.length).replace(/[\s:=#"'“«]+$/, '');
  if (/^\d{13}$/.test(value) && /jmbg|em[sš]o|mati[cč]n/i.test(name)) return !jmbgValid(value);
  // A CPF, PESEL, CNP, EGN or TCKN named as such: written whole, their own detectors decide; grouped in another way
  // (`PESEL: 750102-50596`, `80040 326337`), its own check does, here.
  const own = /(cpf|pesel|cnp|egn|tckn)\W*$/i.exec(name);
  if (!own) return false;
  const check = OWN_CHECKS[own[1]!.toLowerCase()]!;
  return /^\d+$/.test(value) || digits.length !== check.length || /[A-Za-z]/.test(value) || !check.valid(digits);
}

/** The ids national-ids.ts finds written whole, with their lengths and checks, for the other groupings a name vouches for. */
const OWN_CHECKS: Record<string, { length: number; valid: (digits: string) => boolean }> = {
  cpf: { length: 11, valid: cpfValid },
  pesel: { length: 11, valid: peselValid },
  cnp: { length: 13, valid: cnpValid },
  egn: { length: 10, valid: egnValid },
  tckn: { length: 11, valid: tcknValid },
};

/** `seria i numer dowodu osobistego: ABA 300000`, `Dowód osobisty | ABA-300000`: a Polish identity card, after its whole name (a bare `Dowód:` is as often an accounting voucher, `Dowód: FVZ 100006`). */
const PL_ID_CARD = /(?<![\p{L}\p{N}])[Dd](?:ow[oó]d|OW[OÓ]D|owod(?:u|em|zie)|OWOD(?:U|EM|ZIE))[ \t]+(?:osobist(?:y|ego|ym)|OSOBIST(?:Y|EGO|YM))[ \t]*[:：#|]?[ \t]{0,4}([A-Z]{3}[ \t-]?\d{6})(?![\p{L}\p{N}])/gu;

/** `Order ID number`, `Customer identification number`: an id of something other than a person's citizenship. */
const OTHER_ID_BEFORE = /\b(?:order|invoice|tracking|ticket|case|customer|account|transaction|booking|reference|employee|member|product|device|session|user|client|request|vehicle|batch|job|build|record|message|process|thread|patient|student|container|task|worker|node|pod|group|commit|issue|run|trace|span|event|item|asset|tenant|project|app|api)[ _-]?$/i;

function valueSpan(m: RegExpExecArray): Span | null {
  const value = m[1]!;
  if (!idShaped(value) || failsItsOwnCheck(value, m) || OTHER_ID_BEFORE.test(m.input.slice(Math.max(0, m.index - 24), m.index))) return null;
  const start = m.index + m[0].length - value.length;
  return { start, end: start + value.length };
}

/**
 * ASCII stems for the keyword pass (keywords.ts reads ASCII only): a text that holds none of them
 * skips these detectors. Each name above holds one of them (`cédula` holds `dula`, `henkilötunnus` `tunnus`).
 */
const WORD_KEYWORDS = [
  'national', 'identit', 'identifica', 'personal', 'citizen', 'social', 'health', 'resident', 'foreigner', 'birth number', 'id card', 'id number', 'id no',
  'tax code', 'tax file', 'taxpayer', 'voter', 'virtual id', 'versicherungsnummer', 'ausweis', 'steuer', 'personenkennzeichen', 'fiscal', 'securit',
  'seguridad', 'seguran', 'contribuinte', 'cidad', 'dula', 'extranjer', 'documento', 'carte', 'mero', 'bilhete', 'registro', 'sofi', 'onderwijsnummer',
  'rijksregisternummer', 'burgerservicenummer', 'identifik', 'ro fiscal', 'personnum', 'dselsnum', 'tunnus', 'kennitala', 'cpr', 'personas kods', 'asmens kodas', 'isikukood', 'rodn', 'osobn', 'codice fiscale',
  'carta d', 'kimlik', 'broj', 'tevilka', 'jmbg', 'emso', 'ro d', 'ro national', 'ro bis',
];
const ACRONYM_KEYWORDS = [...new Set(ACRONYMS.map((a) => a.replace(/[^A-Z]/g, '').toLowerCase()))];
/** A name's words may be joined as a key's are (`id_number`, `idNumber`, `tax-code`): each stem with a space, also so. */
const joinedForms = (stems: readonly string[]): string[] =>
  [...new Set(stems.flatMap((k) => (k.includes(' ') && k.split(' ').every((w) => w.length >= 2) ? [k, k.replaceAll(' ', '_'), k.replaceAll(' ', '-'), k.replaceAll(' ', '')] : [k])))];
/** Names in other scripts have no ASCII stem: a gate finds them instead. */
const SCRIPT_GATE = windowed(new RegExp(OTHER_SCRIPTS.join('|'), 'iu'), 60);

/**
 * A name and a value after it, tested once before the detector is a candidate: the names' stems are
 * common words (`personal`, `national`; `vid` in `provider`), and a text with no id after them
 * should not leave the event loop for a worker on their account.
 */
const nameThenValue = (re: RegExp): Gate => {
  const once = new RegExp(re.source, re.flags.replace('g', ''));
  return { test: (text) => once.test(text) };
};

export function namedNationalIdDetectors(): Detector[] {
  return [
    new RegexDetector('pii-national-id-named', 'pii.national_id', 'pii', joinedForms(WORD_KEYWORDS), WORD_NAMES, valueSpan, nameThenValue(WORD_NAMES)),
    new RegexDetector('pii-national-id-abbreviated', 'pii.national_id', 'pii', ACRONYM_KEYWORDS, ACRONYM_NAMES, valueSpan, nameThenValue(ACRONYM_NAMES)),
    new RegexDetector('pii-national-id-named-script', 'pii.national_id', 'pii', [], SCRIPT_NAMES, valueSpan, SCRIPT_GATE),
    new RegexDetector('pii-pl-id-card-named', 'pii.national_id', 'pii', ['osobist'], PL_ID_CARD, (m) => {
      if (!plIdCardValid(m[1]!.replace(/[ \t-]/, ''))) return null;
      return { start: m.index + m[0].length - m[1]!.length, end: m.index + m[0].length };
    }),
  ];
}
