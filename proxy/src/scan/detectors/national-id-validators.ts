// Checksums and numbering-plan rules of personal national ids (python-stdnum documents them).
// Each takes the id with its separators removed; what a bare run of digits must also carry
// (a date of birth, a region code) is checked here too, so a look-alike fails on structure.
import { luhnValid } from './validators.js';

const digitsOf = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0) - 48);
const weighted = (d: readonly number[], weights: readonly number[]): number => weights.reduce((sum, w, i) => sum + w * d[i]!, 0);

/** A real calendar day: month 1–12, day within the month (leap years counted). */
export function dateValid(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** A two-digit year whose century is unknown: valid if the day exists in 19YY or 20YY. */
const dateValidAnyCentury = (yy: number, month: number, day: number): boolean => dateValid(1900 + yy, month, day) || dateValid(2000 + yy, month, day);

/**
 * US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000. Numbers once issued and then
 * printed in advertisements (078-05-1120, 219-09-9999) are SSNs like any other: text that writes
 * one as an SSN is handled as holding one, as it is for the placeholder 123-45-6789.
 */
export function ssnValid(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area[0] === '9') return false;
  return group !== '00' && serial !== '0000';
}

/** US ITIN: area 9xx, group in the IRS's ranges 50–65, 70–88, 90–92, 94–99. */
export function itinValid(area: string, group: string): boolean {
  const g = Number(group);
  return area[0] === '9' && ((g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94);
}

/** UK National Insurance number prefix rules (HMRC): D F I Q U V never; second letter not O; some pairs never issued. */
export function ninoValid(prefix: string): boolean {
  const p = prefix.toUpperCase();
  if (/[DFIQUV]/.test(p) || p[1] === 'O') return false;
  return !['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(p);
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI (8 digits) or NIE (X/Y/Z + 7 digits): the letter is the number mod 23. */
export function dniValid(id: string): boolean {
  const m = /^([XYZ]?)(\d{7,8})([A-Z])$/.exec(id.toUpperCase());
  if (!m) return false;
  const [, prefix, digits, letter] = m as unknown as [string, string, string, string];
  if ((prefix === '') !== (digits.length === 8)) return false;
  // An NIE's X, Y, Z stand for 0, 1, 2 in front of its digits.
  const n = Number((prefix ? String('XYZ'.indexOf(prefix)) : '') + digits);
  return DNI_LETTERS[n % 23] === letter;
}

/** French NIR (social security number, 13 digits + 2-digit key): key = 97 − (number mod 97); Corsica's 2A/2B count as 19/18. */
export function nirValid(compact: string): boolean {
  const m = /^([12])(\d{2})(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})$/.exec(compact);
  if (!m) return false;
  const body = compact.slice(0, 13).replace('2A', '19').replace('2B', '18');
  const key = Number(compact.slice(13));
  return key === 97 - Number(BigInt(body) % 97n);
}

// Verhoeff's dihedral-group tables (the check digit of an Aadhaar number).
const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1], [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1], [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

export function verhoeffValid(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) c = VERHOEFF_D[c]![VERHOEFF_P[i % 8]![Number(digits[digits.length - 1 - i])]!]!;
  return c === 0;
}

/** Indian Aadhaar: 12 digits, not starting with 0 or 1, Verhoeff check digit. */
export function aadhaarValid(digits: string): boolean {
  return /^[2-9]\d{11}$/.test(digits) && verhoeffValid(digits);
}

const HETU_CENTURY: Readonly<Record<string, number>> = { '+': 1800, '-': 1900, U: 1900, V: 1900, W: 1900, X: 1900, Y: 1900, A: 2000, B: 2000, C: 2000, D: 2000, E: 2000, F: 2000 };

/** Finnish HETU DDMMYYCNNNQ: the century sign, a real date, individual number ≥ 002, and the mod-31 check character. */
export function hetuValid(id: string): boolean {
  const m = /^(\d\d)(\d\d)(\d\d)([-+A-FU-Y])(\d{3})([0-9A-FHJ-NPR-Y])$/.exec(id.toUpperCase());
  if (!m) return false;
  const [, dd, mm, yy, sign, nnn, check] = m as unknown as [string, string, string, string, string, string, string];
  if (!dateValid(HETU_CENTURY[sign]! + Number(yy), Number(mm), Number(dd)) || Number(nnn) < 2) return false;
  return '0123456789ABCDEFHJKLMNPRSTUVWXY'[Number(dd + mm + yy + nnn) % 31] === check;
}

/**
 * Swedish personnummer, 10 digits (YYMMDDNNNC) or 12 (YYYYMMDDNNNC): a real date (a
 * samordningsnummer adds 60 to the day), a serial other than 000, and Luhn over the last ten. An
 * interim number has one of eleven letters first in the serial, counted as 1 by the Luhn check.
 */
export function personnummerValid(written: string): boolean {
  const digits = written.replace(/^(\d{6}(?:\d\d)?)[TRSUWXJKLMN]/, '$11');
  const long = digits.length === 12;
  if (!/^\d+$/.test(digits) || (!long && digits.length !== 10)) return false;
  if (digits.slice(-4, -1) === '000') return false;
  if (long && !/^(?:18|19|20)/.test(digits)) return false;
  const d = long ? digits.slice(2) : digits;
  const month = Number(d.slice(2, 4));
  let day = Number(d.slice(4, 6));
  if (day > 60) day -= 60;
  const dated = long ? dateValid(Number(digits.slice(0, 4)), month, day) : dateValidAnyCentury(Number(d.slice(0, 2)), month, day);
  return dated && luhnValid(d);
}

/** Norwegian fødselsnummer DDMMYYIIICC: a real date (D-numbers add 40 to the day, H-numbers 40 to the month) and two mod-11 check digits. */
export function fodselsnummerValid(digits: string): boolean {
  if (!/^\d{11}$/.test(digits)) return false;
  const d = digitsOf(digits);
  const check = (weights: readonly number[]) => (11 - (weighted(d, weights) % 11)) % 11;
  if (check([3, 7, 6, 1, 8, 9, 4, 5, 2]) !== d[9] || check([5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) !== d[10]) return false;
  let day = Number(digits.slice(0, 2));
  let month = Number(digits.slice(2, 4));
  const yy = Number(digits.slice(4, 6));
  const individual = Number(digits.slice(6, 9));
  if (day >= 80) return false; // an FH number: no date in it, nothing to tell it from any other 11 digits
  if (day > 40) day -= 40;
  if (month > 40) month -= 40;
  // The individual number gives the century.
  let year: number;
  if (individual < 500) year = 1900 + yy;
  else if (individual < 750 && yy >= 54) year = 1800 + yy;
  else if (yy < 40) year = 2000 + yy;
  else if (individual >= 900) year = 1900 + yy;
  else return false;
  return dateValid(year, month, day);
}

/** Bulgarian EGN YYMMDDNNNC: month +20 for the 1800s, +40 for the 2000s; weighted mod-11 check. */
export function egnValid(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  let year = 1900 + Number(digits.slice(0, 2));
  let month = Number(digits.slice(2, 4));
  if (month > 40) (year += 100), (month -= 40);
  else if (month > 20) (year -= 100), (month -= 20);
  if (!dateValid(year, month, Number(digits.slice(4, 6)))) return false;
  const d = digitsOf(digits);
  return (weighted(d, [2, 4, 8, 5, 10, 9, 7, 3, 6]) % 11) % 10 === d[9];
}

/** Polish PESEL YYMMDDNNNNC: month +20/+40/+60/+80 for 2000s/2100s/2200s/1800s; weights 1,3,7,9. */
export function peselValid(digits: string): boolean {
  if (!/^\d{11}$/.test(digits)) return false;
  const mm = Number(digits.slice(2, 4));
  const year = Number(digits.slice(0, 2)) + [1900, 2000, 2100, 2200, 1800][Math.floor(mm / 20)]!;
  if (!dateValid(year, mm % 20, Number(digits.slice(4, 6)))) return false;
  const d = digitsOf(digits);
  return (10 - (weighted(d, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10)) % 10 === d[10];
}

/** Estonian isikukood GYYMMDDNNNC: G 1–6 gives sex and century; a real date; two-stage weighted mod-11 check. */
export function isikukoodValid(digits: string): boolean {
  if (!/^[1-6]\d{10}$/.test(digits)) return false;
  const year = 1800 + 100 * Math.floor((Number(digits[0]) - 1) / 2) + Number(digits.slice(1, 3));
  if (!dateValid(year, Number(digits.slice(3, 5)), Number(digits.slice(5, 7)))) return false;
  const d = digitsOf(digits);
  let check = weighted(d, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) % 11;
  if (check === 10) check = weighted(d, [3, 4, 5, 6, 7, 8, 9, 1, 2, 3]) % 11;
  return check % 10 === d[10];
}

/** Romanian CNP SYYMMDDJJNNNC: S gives sex and century (7–9 residents), a real date, a county code, weighted mod-11 check. */
export function cnpValid(digits: string): boolean {
  if (!/^[1-9]\d{12}$/.test(digits)) return false;
  const d = digitsOf(digits);
  const yy = Number(digits.slice(1, 3));
  const month = Number(digits.slice(3, 5));
  const day = Number(digits.slice(5, 7));
  const century = [0, 1900, 1900, 1800, 1800, 2000, 2000][d[0]!];
  if (century ? !dateValid(century + yy, month, day) : !dateValidAnyCentury(yy, month, day)) return false;
  const county = Number(digits.slice(7, 9));
  if (!((county >= 1 && county <= 48) || county === 51 || county === 52 || county === 70 || (county >= 80 && county <= 83))) return false;
  const check = weighted(d, [2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9]) % 11;
  return (check === 10 ? 1 : check) === d[12];
}

/** Turkish T.C. Kimlik No: 11 digits, no leading 0, two check digits over the first nine and ten. */
export function tcknValid(digits: string): boolean {
  if (!/^[1-9]\d{10}$/.test(digits)) return false;
  const d = digitsOf(digits);
  const odd = d[0]! + d[2]! + d[4]! + d[6]! + d[8]!;
  const even = d[1]! + d[3]! + d[5]! + d[7]!;
  if ((((odd * 7 - even) % 10) + 10) % 10 !== d[9]) return false;
  return (odd + even + d[9]!) % 10 === d[10];
}

/**
 * German Steuer-ID (steuerliche Identifikationsnummer): 11 digits, no leading 0; among the first
 * ten exactly one digit occurs more than once, two or three times (never three in a row), the
 * others at most once; ISO 7064 MOD 11,10 check digit.
 */
export function steuerIdValid(digits: string): boolean {
  if (!/^[1-9]\d{10}$/.test(digits) || /(\d)\1\1/.test(digits.slice(0, 10))) return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[digits.charCodeAt(i) - 48]!++;
  const repeated = counts.filter((c) => c > 1);
  if (repeated.length !== 1 || repeated[0]! > 3) return false;
  return mod11_10(digits);
}

/** ISO 7064 MOD 11,10 over all digits, the last being the check digit. */
export function mod11_10(digits: string): boolean {
  let p = 10;
  for (let i = 0; i < digits.length - 1; i++) {
    const s = (digits.charCodeAt(i) - 48 + p) % 10 || 10;
    p = (2 * s) % 11;
  }
  return (11 - p) % 10 === digits.charCodeAt(digits.length - 1) - 48;
}

/**
 * German Rentenversicherungsnummer AA DDMMYY L SS C: area 02–89, the birth date (a day + 50 when
 * the serials for a date ran out), the birth name's initial, a serial, and a check digit over the
 * digits with the letter as its two-digit place in the alphabet, weights 2,1,2,5,7,1,2,1,2,1,2,1, digit sums.
 */
export function rvnrValid(id: string): boolean {
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})([A-Z])(\d{2})(\d)$/.exec(id.toUpperCase());
  if (!m) return false;
  const [, area, dd, mm, yy, letter, serial, check] = m as unknown as [string, string, string, string, string, string, string, string];
  if (Number(area) < 2 || Number(area) > 89) return false;
  const day = Number(dd) > 50 ? Number(dd) - 50 : Number(dd);
  if (!dateValidAnyCentury(Number(yy), Number(mm), day)) return false;
  const d = digitsOf(area + dd + mm + yy + String(letter.charCodeAt(0) - 64).padStart(2, '0') + serial);
  const sum = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1].reduce((s, w, i) => {
    const p = w * d[i]!;
    return s + Math.floor(p / 10) + (p % 10);
  }, 0);
  return sum % 10 === Number(check);
}

// Thai province codes (the second and third digits): the 77 provinces' numbering, with gaps.
const THAI_PROVINCES = /^(?:1\d|2[0-7]|3\d|4\d|5[0-8]|6[0-7]|7[0-7]|8[0-6]|9[0-6])$/;

/** Thai personal id: category 1–8, a province code, mod-11 check digit. */
export function thaiPinValid(digits: string): boolean {
  if (!/^[1-8]\d{12}$/.test(digits) || !THAI_PROVINCES.test(digits.slice(1, 3))) return false;
  const d = digitsOf(digits);
  return (11 - (weighted(d, [13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11)) % 10 === d[12];
}

/** South African id YYMMDD SSSS C A Z: a real date, citizenship 0 (citizen), 1 (resident) or 2 (refugee), Luhn. */
export function zaIdValid(digits: string): boolean {
  if (!/^\d{10}[012]\d\d$/.test(digits)) return false;
  return dateValidAnyCentury(Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), Number(digits.slice(4, 6))) && luhnValid(digits);
}

/**
 * Korean resident registration number YYMMDD-GNNNNNN: a real date in the century G gives. The
 * weighted mod-11 check digit holds only for numbers issued before October 2020 (later ones end
 * in random digits), so `checked` asks for it where the date and G alone say too little.
 */
export function rrnValid(digits: string, checked: boolean): boolean {
  if (!/^\d{6}[1-8]\d{6}$/.test(digits)) return false;
  const d = digitsOf(digits);
  const century = '1256'.includes(digits[6]!) ? 1900 : 2000;
  if (!dateValid(century + Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), Number(digits.slice(4, 6)))) return false;
  return !checked || (11 - (weighted(d, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11)) % 10 === d[12];
}

/** Canadian SIN: 9 digits, first not 0 (unused) or 8 (business numbers), Luhn. */
export function sinValid(digits: string): boolean {
  return /^[1-79]\d{8}$/.test(digits) && luhnValid(digits);
}

const PPS_LETTERS = 'WABCDEFGHIJKLMNOPQRSTUV';

/** Irish PPS number: 7 digits, a mod-23 check letter, and optionally A, B, H (counted in the check) or W, T, X. */
export function ppsValid(id: string): boolean {
  const m = /^(\d{7})([A-W])([ABHWTX]?)$/.exec(id.toUpperCase());
  if (!m) return false;
  const [, digits, check, second] = m as unknown as [string, string, string, string];
  const extra = second && 'ABH'.includes(second) ? 9 * PPS_LETTERS.indexOf(second) : 0;
  return PPS_LETTERS[(weighted(digitsOf(digits), [8, 7, 6, 5, 4, 3, 2]) + extra) % 23] === check;
}

/** Brazilian CPF: 11 digits, not all the same, two mod-11 check digits. */
export function cpfValid(digits: string): boolean {
  if (!/^\d{11}$/.test(digits) || /^(\d)\1+$/.test(digits)) return false;
  const d = digitsOf(digits);
  const c1 = ((weighted(d, [10, 9, 8, 7, 6, 5, 4, 3, 2]) * 10) % 11) % 10;
  const c2 = ((weighted(d, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) * 10) % 11) % 10;
  return c1 === d[9] && c2 === d[10];
}

// Chinese province-level codes (the first two digits of a resident id).
const CN_PROVINCES = /^(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3])$/;

/** Chinese resident id: a province code, an 8-digit birth date, ISO 7064 MOD 11-2 check (X for 10). */
export function ricValid(id: string): boolean {
  const s = id.toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s) || !CN_PROVINCES.test(s.slice(0, 2))) return false;
  const year = Number(s.slice(6, 10));
  if (year < 1880 || !dateValid(year, Number(s.slice(10, 12)), Number(s.slice(12, 14)))) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (s.charCodeAt(i) - 48) * (2 ** (17 - i) % 11);
  return '10X98765432'[sum % 11] === s[17];
}

// Codice fiscale: digits of the date may be swapped for these letters (omocodia) when two people would share a code.
const CF_DIGIT = '0123456789LMNPQRSTUV';
const CF_MONTHS = 'ABCDEHLMPRST';
const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

/** Italian codice fiscale: surname/name letters, a birth date (day + 40 for women), a place code, the odd/even check letter. */
export function codiceFiscaleValid(id: string): boolean {
  const s = id.toUpperCase();
  if (!/^[A-Z]{6}[0-9L-NP-V]{2}[ABCDEHLMPRST][0-9L-NP-V]{2}[A-Z][0-9L-NP-V]{3}[A-Z]$/.test(s)) return false;
  const num = (i: number) => CF_DIGIT.indexOf(s[i]!) % 10;
  const day = (num(9) * 10 + num(10)) % 40;
  if (!dateValidAnyCentury(num(6) * 10 + num(7), CF_MONTHS.indexOf(s[8]!) + 1, day)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const c = s.charCodeAt(i);
    const v = c <= 57 ? c - 48 : c - 65;
    sum += i % 2 === 0 ? CF_ODD[v]! : v;
  }
  return String.fromCharCode(65 + (sum % 26)) === s[15];
}

const CURP_STATES = new Set('AS BC BS CC CH CL CM CS DF DG GR GT HG JC MC MN MS NE NL NT OC PL QR QT SL SP SR TC TL TS VZ YN ZS'.split(' '));
// Four-letter words RENAPO never issues as a CURP's first letters (it swaps the second letter for an X).
const CURP_BARRED = new Set(
  ('BACA BAKA BUEI BUEY CACA CACO CAGA CAGO CAKA CAKO COGE COGI COJA COJE COJI COJO COLA CULO FALO FETO GETA GUEI GUEY JETA JOTO KACA KACO ' +
    'KAGA KAGO KAKA KAKO KOGE KOGI KOJA KOJE KOJI KOJO KOLA KULO LILO LOCA LOCO LOKA LOKO MAME MAMO MEAR MEAS MEON MIAR MION MOCO MOKO MULA ' +
    'MULO NACA NACO PEDA PEDO PENE PIPI PITO POPO PUTA PUTO QULO RATA ROBA ROBE ROBO RUIN SENO TETA VACA VAGA VAGO VAKA VUEI VUEY WUEI WUEY').split(' '),
);
const CURP_ALPHABET = '0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ';

/** Mexican CURP: name letters, a birth date, sex H/M, a state code, name consonants, a century character and a check digit. */
export function curpValid(id: string): boolean {
  const s = id.toUpperCase();
  if (!/^[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A-Z]\d$/.test(s) || CURP_BARRED.has(s.slice(0, 4)) || !CURP_STATES.has(s.slice(11, 13))) return false;
  const year = Number(s.slice(4, 6)) + (/\d/.test(s[16]!) ? 1900 : 2000);
  if (!dateValid(year, Number(s.slice(6, 8)), Number(s.slice(8, 10)))) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CURP_ALPHABET.indexOf(s[i]!) * (18 - i);
  return (10 - (sum % 10)) % 10 === Number(s[17]);
}

/** Sri Lanka's old NIC, YYDDDNNNC + V/X: the day of the year, plus 500 for a woman. */
export function lkNicValid(id: string): boolean {
  // Issued to people born in the 1900s: a year before 20 would be a centenarian's.
  if (!/^[2-9]\d{8}[VX]$/i.test(id)) return false;
  const day = Number(id.slice(2, 5));
  return (day >= 1 && day <= 366) || (day >= 501 && day <= 866);
}

const TW_LETTERS = 'ABCDEFGHJKLMNPQRSTUVXYWZIO';
/** Taiwan's national id: a letter (the place of registration, read as 10–35), sex 1 or 2, seven digits and a check digit. */
export function twIdValid(id: string): boolean {
  if (!/^[A-Z][12]\d{8}$/i.test(id)) return false;
  const n = 10 + TW_LETTERS.indexOf(id[0]!.toUpperCase());
  const d = digitsOf(id.slice(1));
  return (Math.floor(n / 10) + 9 * (n % 10) + weighted(d, [8, 7, 6, 5, 4, 3, 2, 1, 1])) % 10 === 0;
}

/** Hong Kong identity card: one or two letters, six digits and a check digit (A for ten), mod 11. */
export function hkidValid(id: string): boolean {
  const m = /^([A-Z]{1,2})(\d{6})([0-9A])$/i.exec(id);
  if (!m) return false;
  const letters = m[1]!.toUpperCase().padStart(2, ' ');
  const value = (c: string) => (c === ' ' ? 36 : c.charCodeAt(0) - 55);
  const sum = 9 * value(letters[0]!) + 8 * value(letters[1]!) + weighted(digitsOf(m[2]!), [7, 6, 5, 4, 3, 2]);
  const check = (11 - (sum % 11)) % 11;
  return (check === 10 ? 'A' : String(check)) === m[3]!.toUpperCase();
}

/** Poland's identity card: three letters (A = 10 … Z = 35) and six digits, the first of them a check digit (weights 7 3 1 9 7 3 1 7 3, mod 10). */
export function plIdCardValid(id: string): boolean {
  if (!/^[A-Z]{3}\d{6}$/.test(id)) return false;
  const values = Array.from(id, (c, i) => (i < 3 ? c.charCodeAt(0) - 55 : c.charCodeAt(0) - 48));
  return weighted(values, [7, 3, 1, 9, 7, 3, 1, 7, 3]) % 10 === 0;
}

/**
 * Singapore NRIC and FIN: S/T (citizens and residents, born before and from 2000), F/G (foreigners,
 * before and from 2000), M (foreigners, from 2022); seven digits, weights 2 7 6 5 4 3 2, plus 4 for T
 * and G and 3 for M; the check letter from the sum mod 11, by table.
 */
export function sgNricValid(id: string): boolean {
  const m = /^([STFGM])(\d{7})([A-Z])$/i.exec(id);
  if (!m) return false;
  const prefix = m[1]!.toUpperCase();
  const sum = weighted(digitsOf(m[2]!), [2, 7, 6, 5, 4, 3, 2]) + (prefix === 'T' || prefix === 'G' ? 4 : prefix === 'M' ? 3 : 0);
  const table = prefix === 'S' || prefix === 'T' ? 'JZIHGFEDCBA' : prefix === 'M' ? 'KLJNPQRTUWX' : 'XWUTRQPNMLK';
  return table[sum % 11] === m[3]!.toUpperCase();
}

/** Belgian national number YYMMDDNNNCC: a birth date (month and day may be 0, month +20/+40 in the BIS register), 97 − mod 97. */
export function beNnValid(digits: string): boolean {
  if (!/^\d{11}$/.test(digits)) return false;
  const mm = Number(digits.slice(2, 4)) % 20;
  const dd = Number(digits.slice(4, 6));
  if (mm > 12 || dd > 31 || Number(digits.slice(2, 4)) > 52) return false;
  const check = Number(digits.slice(9));
  const base = Number(digits.slice(0, 9));
  return 97 - (base % 97) === check || 97 - ((2_000_000_000 + base) % 97) === check;
}

/** French numéro fiscal (SPI): thirteen digits, the first 0–3; the last three are the first ten mod 511. */
export function frSpiValid(digits: string): boolean {
  return /^[0-3]\d{12}$/.test(digits) && Number(digits.slice(0, 10)) % 511 === Number(digits.slice(10));
}

/** Argentine CUIL of a person (20, 23, 24, 27): mod 11 over weights 5,4,3,2,7,6,5,4,3,2. */
export function cuilValid(digits: string): boolean {
  if (!/^2[0347]\d{9}$/.test(digits)) return false;
  const d = digitsOf(digits);
  const check = (11 - (weighted(d, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11)) % 11;
  return check !== 10 && check === d[10];
}

/**
 * Former Yugoslavia's JMBG (Slovenia's EMŠO, Serbia's, Bosnia's, North Macedonia's, Montenegro's):
 * DDMMYYY RR BBB K — the birth date (a three-digit year, 9xx for 19xx), a register region, a serial
 * and a mod-11 check digit over weights 7,6,5,4,3,2 twice.
 */
export function jmbgValid(d: string): boolean {
  if (!/^\d{13}$/.test(d)) return false;
  const yyy = Number(d.slice(4, 7));
  if ((yyy >= 100 && yyy < 800) || !dateValid(yyy >= 800 ? 1000 + yyy : 2000 + yyy, Number(d.slice(2, 4)), Number(d.slice(0, 2)))) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (d.charCodeAt(i) - 48) * [7, 6, 5, 4, 3, 2][i % 6]!;
  // As python-stdnum's EMŠO: a remainder giving 10 or 11 gives check digit 0.
  return ((11 - (sum % 11)) % 11) % 10 === d.charCodeAt(12) - 48;
}

const RFC_ALPHABET = '0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ';
/**
 * Mexico's RFC of a person: four letters of the name, the birth date YYMMDD and a three-character
 * homoclave whose last is a mod-11 check over the first twelve (`A` for 10).
 */
export function mxRfcValid(id: string): boolean {
  const s = id.toUpperCase().replace(/[\s-]/g, '');
  if (!/^[A-ZÑ&]{4}\d{6}[A-Z0-9]{2}[0-9A]$/.test(s)) return false;
  if (!dateValidAnyCentury(Number(s.slice(4, 6)), Number(s.slice(6, 8)), Number(s.slice(8, 10)))) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += RFC_ALPHABET.indexOf(s[i]!) * (13 - i);
  const r = 11 - (sum % 11);
  return (r === 11 ? '0' : r === 10 ? 'A' : String(r)) === s[12];
}

/** Malaysia's MyKad number YYMMDD-PB-###G: a birth date and a place-of-birth code (states 01–16, abroad 21–59, 60–98 except 70s and 80s unused ones). */
export function myNricValid(d: string): boolean {
  if (!/^\d{12}$/.test(d) || !dateValidAnyCentury(Number(d.slice(0, 2)), Number(d.slice(2, 4)), Number(d.slice(4, 6)))) return false;
  const pb = Number(d.slice(6, 8));
  return (pb >= 1 && pb <= 16) || (pb >= 21 && pb <= 59) || (pb >= 60 && pb <= 68) || pb === 71 || pb === 72 || pb === 74 || (pb >= 75 && pb <= 79) || (pb >= 82 && pb <= 93) || pb === 98 || pb === 99;
}

/** Iceland's kennitala DDMMYY-RRCM: a date (a day + 40 for a company), a mod-11 check over weights 3,2,7,6,5,4,3,2 and the century (9, 0 or 8). */
export function kennitalaValid(d: string, person = true): boolean {
  if (!/^\d{10}$/.test(d)) return false;
  const century = d[9] === '9' ? 1900 : d[9] === '0' ? 2000 : d[9] === '8' ? 1800 : 0;
  const day = Number(d.slice(0, 2)) - (person ? 0 : 40);
  if (!century || !dateValid(century + Number(d.slice(4, 6)), Number(d.slice(2, 4)), day)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (d.charCodeAt(i) - 48) * [3, 2, 7, 6, 5, 4, 3, 2][i]!;
  const check = (11 - (sum % 11)) % 11;
  return check !== 10 && check === d.charCodeAt(8) - 48;
}
