// Checksums and shape rules that keep look-alikes from firing.

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Card numbers published by the networks and processors for testing: in docs, never real.
 * Stripe's and Adyen's documented numbers, Authorize.net's, and Braintree's sandbox list
 * (braintree_ruby `lib/braintree/test/credit_card.rb`, card-type indicators included).
 */
export const TEST_CARDS: ReadonlySet<string> = new Set([
  '4111111111111111', '4242424242424242', '4012888888881881', '4222222222222', '4000056655665556', '4000000000000002',
  '4000000000000077', '4000000000009995', '4000002500003155', '4000000000003220', '4000000000000341', '4000000000000119',
  '5555555555554444', '5105105105105100', '5200828282828210', '2223003122003222', '5454545454545454', '2222400070000005',
  '378282246310005', '371449635398431', '378734493671000', '6011111111111117', '6011000990139424', '6011000000000012',
  '3056930009020004', '30569309025904', '38520000023237', '3566002020360505', '3530111333300000', '6200000000000005',
  '36227206271667', '6555900000604105',
  // Stripe (declines, 3-D Secure), Adyen, Authorize.net.
  '4000002760003184', '4000000000000069', '4000000000000127', '4000000000000101', '4111111145551142', '5555341244441115',
  '370000000000002', '3088000000000017', '38000000000006', '4007000000027', '4012888818888', '5424000000000015',
  '2223000048400011',
  // Braintree's sandbox numbers.
  '4111111111111210', '4229989900000002', '4229989800000003', '4111111111131010', '4229989700000004', '4229989100000000',
  '4111111114101010', '4229989500000006', '4111111510101010', '4111161010101010', '4117101010101010', '4111111111112101',
  '4111111111310101', '4111111141010101', '4111111111121102', '6304000000000000', '5066991111111118', '6370950000000005',
  '6062820524845321', '4023490000000008', '4009348888881881', '4500600000000061', '4000111111111511', '4111130000000003',
  '4000111111111115', '371260714673002', '378267515471109', '371544868764018', '4023898493988028',
]);

/**
 * The network whose issuer range (IIN) and length a number fits, or null. Ranges of the
 * schemes that issue cards today (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
 * Mir, Troy, RuPay, and the Maestro family, which the ISO 7812 banking prefixes 5 and 6 cover:
 * Maestro, Solo, Switch, Dankort, Hipercard, Elo…) with the lengths they issue. `uatp`
 * (airline cards: 1, 15 digits) is returned too, but a bare 15-digit number starting with 1 is
 * too common to call a card on its own: the detector asks for a word beside it.
 */
export function cardNetwork(d: string): string | null {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4' && (n === 13 || n === 16 || n === 19)) return 'visa';
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return 'mastercard';
  if (p4 >= 2200 && p4 <= 2204 && n >= 16 && n <= 19) return 'mir';
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((d.startsWith('6011') || p2 === 65 || (p3 >= 644 && p3 <= 649)) && n >= 16 && n <= 19) return 'discover';
  if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) return 'jcb';
  if ((p4 === 1800 || p4 === 2131) && n === 15) return 'jcb';
  if ((p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305) || p4 === 3095) && (n === 14 || n === 16 || n === 19)) return 'diners';
  // UnionPay issues 14 to 19 digits (thirteen is a barcode's length: EAN-13).
  if ((p2 === 62 && n >= 14 && n <= 19) || (p2 === 81 && n >= 16 && n <= 19)) return 'unionpay';
  if (p4 === 9792 && n === 16) return 'troy';
  if ((p2 === 60 || p2 === 82 || p3 === 508) && n === 16) return 'rupay';
  // Maestro and the domestic schemes built on it; 12–15-digit Maestro is left out as too like other numbers.
  if ((p2 === 50 || (p2 >= 56 && p2 <= 69)) && n >= 16 && n <= 19) return 'maestro';
  if (d[0] === '1' && n === 15) return 'uatp';
  return null;
}

/** IBAN length by country (ISO 13616 registry, release 99 of 2025). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20,
  // Joined the registry since 2021: Burundi, Djibouti, Falklands, Libya, Mongolia, Nicaragua, Oman, Russia, Sudan, Somalia, Yemen.
  BI: 27, DJ: 27, FK: 18, LY: 25, MN: 20, NI: 28, OM: 23, RU: 33, SD: 18, SO: 23, YE: 30,
  // France's overseas departments and territories: the registry lists them under FR, and their IBANs carry their own codes.
  GF: 27, GP: 27, MQ: 27, RE: 27, PF: 27, TF: 27, YT: 27, NC: 27, BL: 27, MF: 27, PM: 27, WF: 27,
  // Åland writes its own code on the Finnish format.
  AX: 18,
  // Issued outside the registry, with its check digits, by the banks of the West and Central African monetary unions
  // and of Algeria, Angola, Cape Verde, Comoros, Guinea-Bissau, Honduras, Iran, Madagascar, Morocco and Mozambique.
  AO: 25, BF: 28, BJ: 28, CF: 27, CG: 27, CI: 28, CM: 27, CV: 25, DZ: 26, GA: 27, GQ: 27, GW: 25, HN: 28, IR: 26, KM: 27,
  MA: 28, MG: 27, ML: 28, MZ: 25, NE: 28, SN: 28, TD: 27, TG: 28,
};

/** The length of an IBAN issued in this country (upper-case ISO code), or undefined where there is none. */
export function ibanLength(country: string): number | undefined {
  return IBAN_LENGTHS[country];
}

export function ibanValid(compact: string): boolean {
  const iban = compact.toUpperCase();
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
