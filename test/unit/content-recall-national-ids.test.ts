// National ids by country: each form found, and the look-alikes of each (a wrong check digit, an
// impossible date, a number the text calls something else, a bare form too ambiguous) kept quiet.
import { join } from 'node:path';
import test from 'ava';
import { loadDefaultDetectors } from '../../proxy/src/scan/detectors/engine.js';
import type { Family } from '../../proxy/src/scan/detectors/types.js';
import { ROOT } from '../helpers/process.js';

const { set } = loadDefaultDetectors(join(ROOT, 'policies/rules/gitleaks.toml'));
const PII = new Set<Family>(['pii']);
/** The rules that call something in text a national id. */
const ids = (text: string) => [...new Set(set.scan(text, PII).filter((f) => f.label === 'pii.national_id').map((f) => f.rule))].sort();

/** Each text must be found by `rule` (and only as a national id by it); each quiet text by no national-id rule. */
function holds(rule: string, found: readonly string[], quiet: readonly string[]) {
  return (t: import('ava').ExecutionContext) => {
    for (const text of found) t.true(ids(text).includes(rule), `${rule} should find: ${text}`);
    for (const text of quiet) t.deepEqual(ids(text), [], `should stay quiet: ${text}`);
  };
}

test('fi-hetu: the century sign and the mod-31 character', holds('pii-fi-hetu', ['henkilötunnus 170379-4100', '170379-4100', '170379+4100', '170379y4100'], ['170379-4101', '170379/4100', '310279-4100 (no 31 February)', '170379-0010']));

test('se-pnr: YYMMDD-NNNN anywhere, run together only an adult’s', holds('pii-se-personnummer', ['personnummer 760612-2005', '7606122005', '197111031402', '19711103-1402'], ['760612-2006', '7613122005', 'order 7606122005', '202406110042 (a date-stamped order number)']));

test('se-pnr: twelve digits name their century, any adult’s; a word run into the number beside its name', holds('pii-se-personnummer', ['191506121233', 'personnumret är194506122342', 'pnr:198804273129'], ['191506121234', 'build194506122342', 'v194506122342']));

test('names near an id: any case, in keys, on the line above', (t) => {
  t.deepEqual(ids('"CPF": "52998224059"'), ['pii-br-cpf']);
  t.deepEqual(ids('Thai ID card\n3101400210007'), ['pii-th-pin']);
  t.deepEqual(ids('{"egn": "1545051231"}'), ['pii-bg-egn']);
  t.deepEqual(ids('pps_no: 6433430S'), ['pii-ie-pps']);
  // Not two lines up, not a name inside a word.
  t.deepEqual(ids('Thai ID card\n\n3101400210007'), []);
  t.deepEqual(ids('subscriptions 3101400210007'), []);
  t.deepEqual(ids('1545051231 (a child’s EGN, without its name)'), []);
});

test('tr-tckn: two check digits', holds('pii-tr-tckn', ['TC Kimlik No: 28471953076', '28471953076'], ['28471953077', '08471953076', 'invoice 28471953076']));

test('kr-rrn: a dashed citizen number on its date, bare digits with the check digit', holds('pii-kr-rrn', ['주민등록번호 830315-1000000', '830315-1234567', '8303151000000'], ['831315-1234567', '830315-9234567', '8303151000001', '830315+1000000']));

test('za-id: date, citizenship digit and Luhn', holds('pii-za-id', ['ID number 7906215317000', '790621 5317 00 0'], ['7906215317001', '7913215317000', '7906215317300']));

test('th-pin: the printed grouping, or 13 digits beside its name', holds('pii-th-pin', ['3-1014-00210-00-7', '3 1014 00210 00 7', 'Thai ID 3101400210007', 'เลขประจำตัวประชาชน 3101400210007'], ['3101400210007', '3-1014-00210-00-8', '9-1014-00210-00-7']));

test('no-fnr: date and two check digits, in its written forms', holds('pii-no-fodselsnummer', ['fødselsnummer 030769 00085', '03076900085', '030769-00085', '03 07 69 000 85'], ['03076900086', '33136900085']));

test('ca-sin: printed in its groups on its own, nine bare digits beside its name', holds('pii-ca-sin', ['SIN: 526 193 842', 'NAS 526-193-842', 'social insurance number 526193842', '526 193 842', '462-719-352', 'sin_number=462719352', '{"userSin": "462719352"}', 'Social Insurance Number\n462719352'], ['462719352', 'SIN 526 193 843', 'SIN 826 193 842', 'ASIN 462719352', 'SINGAPORE 462719352']));

test('ca-sin: a company’s number, a sum or a phone printed 3-3-3 stays quiet', (t) => {
  // 732 816 046 passes Luhn as every SIREN does; 462 719 352 is a valid SIN shape.
  for (const text of [
    'RCS Paris 473 829 109',
    'SIREN : 732 816 046',
    'Société immatriculée au RCS de Lyon sous le numéro 732 816 046',
    'immatriculée sous le numéro 732 816 046',
    'R.C.S. Lyon 732 816 046',
    '{"siren": "732 816 046"}',
    'SIRET 732 816 046 00014',
    'TVA FR 40 732 816 046',
    '732 816 046 MVA',
    'BN 462 719 352 RT0001',
    'Total: € 462 719 352',
    'budget 462 719 352,00 zł',
    'revenue 462 719 352 EUR',
    'telefon: 462 719 352',
    'móvil 462-719-352',
    '+48 462 719 352',
  ])
    t.deepEqual(ids(text), [], text);
});

test('in-aadhaar: the card’s 4-4-4 grouping on its own, twelve digits otherwise beside its name', holds('pii-in-aadhaar', ['5820 3917 4650', 'Aadhaar: 582039174650', '{"aadhaar_no": "6739-5012-8439"}', 'aadhaarNumber=673950128439', 'Aadhaar number\n673950128439'], ['582039174650', '5820-3917-4650', '5820 3917 4651', '1820 3917 4655', 'arn:aws:iam::582039174650:role/deploy', '4111 5820 3917 4650', '**** 5820 3917 4650', '5820 3917 4650 XXXX', 'tracking 5820 3917 4650']));

test('es-dni: seven digits without the leading zero beside its name', holds('pii-es-dni', ['DNI 1234567L', 'NIF: 7654321J'], ['1234567L', 'DNI 1234567M']));

test('us-ssn: numbers printed in advertisements are SSNs like any other', holds('pii-us-ssn', ['078-05-1120', 'my SSN is 078051120'], ['078051120', '078-05-0000']));

test('ie-pps: two-letter form on its own, one-letter form beside its name', holds('pii-ie-pps', ['6433435AB', 'PPS number 6433430S'], ['6433430S', '6433435AC', '6433436AB']));

test('bg-egn: an adult’s date, the weighted check', holds('pii-bg-egn', ['8203170002', 'ЕГН 8203170002'], ['8203170003', '8213170002', '1500000000', 'ts 8203170002']));

test('de-steuerid: digit-multiplicity rule and MOD 11,10; beside its name the check alone', holds('pii-de-steuerid', ['47356182005', '47 356 182 005', 'Steuer-ID: 58291643582', '"idnr": "58291643582"'], ['47356182006', '58291643582', '07356182005', 'IT 47356182005', 'DE 47 356 182 005']));

test('de-steuerid: a made-up id with ten different digits and its check digit', holds('pii-de-steuerid', ['57382910462', '57 382 910 462'], ['57382910463']));

test('de-rvnr: area, birth date, initial and check digit', holds('pii-de-rvnr', ['Rentenversicherungsnummer 65180472M501', '65 180472 M 501'], ['65180472M502', '65181372M501', '95180472M501']));

test('it-cf: letters, date, place and check letter', holds('pii-it-codice-fiscale', ['codice fiscale VRDLCU71D22H501S', 'vrdlcu71d22h501s'], ['VRDLCU71D22H501T', 'VRDLCU71D32H501S']));

test('pl-pesel: month-coded century, date, weights 1-3-7-9', holds('pii-pl-pesel', ['PESEL 85091200009', '85091200009'], ['85091200008', '85891200009']));

test('cn-ric: province, birth date, MOD 11-2', holds('pii-cn-ric', ['身份证 110105198806140002', '110105198806140002'], ['110105198806140003', '990105198806140002', 'T10105198806140002']));

test('mx-curp: date, sex, state, check digit', holds('pii-mx-curp', ['CURP GOMA850604MDFRRN08'], ['GOMA850604MDFRRN09', 'GOMA850604MXXRRN08']));

test('br-cpf: printed form on its own, 11 bare digits beside its name', holds('pii-br-cpf', ['529.982.240-59', 'CPF 52998224059'], ['52998224059', '529.982.240-58', '111.111.111-11']));

test('ro-cnp and ee-ik: sex-and-century digit, date, check', (t) => {
  holds('pii-ro-cnp', ['CNP 2790318123400'], ['2790318123401', '2791318123400'])(t);
  holds('pii-ee-isikukood', ['isikukood 48806220001'], ['48806220002', '78806220001'])(t);
});

test('us-itin, ssn and nino: format variants', (t) => {
  holds('pii-us-itin', ['ITIN 912-70-1234', '912 94 5678', 'my itin: 912701234'], ['912-89-1234', '912-34-5678', '912701234'])(t);
  holds('pii-us-ssn', ['219.09.9999', '219-09-9999'], ['219.09.99999', 'v1.219.09.9999'])(t);
  holds('pii-uk-nino', ['ni number ab 12 34 56 c', 'ab123456c'], ['ab 12 34 56 e', 'qq123456c'])(t);
  holds('pii-es-dni', ['NIE y-6172534s', 'Y6172534-S'], ['y-6172534t'])(t);
});

test('company ids and grouped numbers that contain an id-shaped run stay quiet', (t) => {
  for (const text of ['SIRET 473 829 109 00007', 'VAT FR 52 473 829 109', 'TIN NO 526 193 842 MVA', 'CNPJ 11.222.333/0001-81', '"created_at": 8203170002', 'tel 28471953076']) t.deepEqual(ids(text), [], text);
});

test('pk-cnic: the 5-7-1 dashed grouping with a province digit', holds('pii-pk-cnic', ['CNIC: 42101-7395182-3', '35202-1846273-9'], ['92101-7395182-3', '42101 7395182 3', '4210173951823']));

test('lk-nic: nine digits of a 1900s birth year and day of the year, then V or X', holds('pii-lk-nic', ['NIC 842431758V', '917705321x'], ['843951758V', '052431758V', '842431758Q']));

test('tw-id: a letter, sex 1 or 2, and the check digit', holds('pii-tw-id', ['身分證 F204157688', 'F204157688'], ['F204157689', 'F304157688', 'AF204157688']));

test('hk-hkid: the check digit in brackets as printed', holds('pii-hk-hkid', ['HKID K604821(8)', 'k604821[8]'], ['K604821(7)', 'K6048218 (no brackets, a bare code)']));

test('fr-spi: thirteen digits whose last three are the first ten mod 511', holds('pii-fr-spi', ['numéro fiscal 21 47 483 660 028', '2147483660028'], ['2147483660029', '5147483660028']));

test('ar-cuil: a person’s prefix and the mod-11 check; a company’s CUIT stays quiet', holds('pii-ar-cuil', ['CUIL 27-31847260-8', '27318472608'], ['27-31847260-7', '30-31847260-8']));

test('be-nn: printed with dots on its own, eleven bare digits beside its name', holds('pii-be-nn', ['88.04.12-157.01', 'Rijksregisternummer: 88041215701'], ['88.04.12-157.02', '88041215701 (no name)']));

test('jmbg / emšo: thirteen digits with a birth date, a region and the mod-11 check', holds('pii-jmbg', ['EMŠO 1503985500121', 'JMBG: 0101006500090'], ['JMBG 1503985500122', 'JMBG 1513985500121', 'value 1701096786885 done', '1503985500121']));

test('mx-rfc: a person’s RFC with its homoclave check', holds('pii-mx-rfc', ['RFC: PELJ850214K28', 'PELJ 850214 K28'], ['PELJ850214K29', 'PELJ851314K28', 'pelj850214k28']));

test('my-nric and is-kennitala as printed', (t) => {
  holds('pii-my-nric', ['IC no. 880214-10-5523', '880214-10-5523'], ['880214-00-5523', '881314-10-5523'])(t);
  holds('pii-is-kennitala', ['kennitala 210788-5229', '210788-5229'], ['210788-5239'])(t);
});

test('any country’s id after its name, in the languages ids are named in; a value named so that fails its own check stays quiet', (t) => {
  for (const text of [
    'Sozialversicherungsnummer: 756.4821.9035.17',
    'Cédula de Identidad: 17288734-2',
    'NID: K2804913802417',
    'ИНН: 771234567890',
    'Número de Cartão de Cidadão: 148230975ZY1',
    'Burgerservicenummer 123456782',
    '身分證字號：F128462951',
    'Greek Social Security Number: 14029105312',
    'Personal identity number (PIN): 4408215063',
    "numéro d'identification : 4817 2290 3316",
    'EMŠO: 1503985500121',
  ]) t.true(ids(text).some((r) => r.startsWith('pii-national-id-named')) || ids(text).includes('pii-national-id-abbreviated'), text);
  for (const text of [
    'SSN 123-45-0000',
    'DNI 26842125E',
    'Social Security Number: 000-12-3456',
    'national id card number: 2024-03-18',
    'personal identification number: 1,234,567',
    'CI: passed on 4711 builds',
    'Order ID number: 778812345',
    'the identity card was issued 12 years ago; code 1234567',
    'id number: 111111111',
  ]) t.deepEqual(ids(text), [], text);
});

test('regression: named ids followed by words, in JSON keys; build numbers, Unix ids, process ids and dates stay quiet (a review found these)', (t) => {
  const named = (text: string) => set.scan(text, PII).filter((f) => f.rule.startsWith('pii-national-id')).map((f) => text.slice(f.start, f.end));
  t.deepEqual(named('NID: K2804913802417 issued in Dhaka'), ['K2804913802417']);
  t.deepEqual(named('Cédula: 10117410-2 expedida en Montevideo'), ['10117410-2']);
  t.deepEqual(named('{"national_id": "84527361"}'), ['84527361']);
  t.deepEqual(named('id_number: 84527361'), ['84527361']);
  for (const text of ['UID: 1000123', 'UID 501234 gid 20', 'CI: 20241107.3', 'Process ID number 4839201', 'Thread ID no: 483920', 'Personal code: 20231115']) t.deepEqual(named(text), [], text);
});

test('se-pnr: an interim number’s letter; serial 000 is no number; a child’s run together, or an Egyptian mobile shaped like a coordination number, stays quiet', holds('pii-se-personnummer', ['880412-T310', '950101-S226', '19881212T005', '20150777-1234'], ['880412-T311', '880412-A310', '201509160006', '201203082381', '201507771234', 'name,msisdn\nAhmed,201006651234']));

test('pl-id-card: after its whole name (`seria i numer dowodu osobistego`, `Dowód osobisty`), in a table too, its check digit holds; a voucher stays quiet', holds('pii-pl-id-card-named', ['seria i numer dowodu osobistego: ABA 300000', 'Dowód osobisty | ABA-300000', '| dowód osobisty | ABA300000 |', 'w dowodzie osobistym ABA300000'], ['Dowód osobisty: ABA300001', 'window ABA300000', 'dowód wpłaty ABA300000', 'Dowód: FVZ 100006 z dnia 12.03.2024', 'Rodzaj dowodu | PAR 100003 | paragon fiskalny', 'dowodu rej 100007']));

test('PESEL, CPF named and grouped as their own detectors do not read them, judged by their own checks', (t) => {
  holds('pii-national-id-abbreviated', ['numer PESEL: 850315-10007', 'numer PESEL | 85031 510007 | sprawdzono', 'CPF: 391-487-200-46'], ['numer PESEL: 850315-10008', 'CPF: 391-487-200-47'])(t);
  // Written whole, the own detector finds it, and it alone.
  t.deepEqual(ids('PESEL: 85031510007'), ['pii-pl-pesel']);
});

test('sg-nric: S, T, F, G and M with seven digits and the check letter of their table, beside their name or Singapore’s; Spanish CIFs and order codes of that shape stay quiet', holds('pii-sg-nric', ['NRIC T0348217G', 'FIN: F2761940K', 'Singapore IC no. S1234567D'], ['Singapore T0348217H', 'Singapore S1234567A', 'Singapore XT0348217G', 'S1234567D', 'Ministerio: CIF S2871253G, Paseo de la Castellana', 'Order S1234567D shipped']));
