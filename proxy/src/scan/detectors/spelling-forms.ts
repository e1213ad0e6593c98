/**
 * Orders spelt so that a person reads them and a filter does not, and how each is read back:
 * look-alike letters of other scripts inside a Latin word (`іgnоrе` with Cyrillic і, о, е), small
 * capitals (`ɪɢɴᴏʀᴇ`), leetspeak (`1gn0r3 4ll pr3v10u5`), invisible characters inside a word
 * (`ig\u200Bnore`), letters spaced or joined by a separator (`i g n o r e   a l l`, `i-g-n-o-r-e`),
 * and Morse code. These are the converters red-team kits ship; each is undone here without a guess:
 * a form is only judged by whether the plain order rules find an order in it that the text as
 * written does not hold (obfuscated-injection.ts).
 */

/** Cyrillic, Greek and Armenian letters drawn like Latin ones, small capitals and a few IPA letters, with the Latin letter each reads as. */
const LOOKALIKES: Readonly<Record<string, string>> = {
  а: 'a', в: 'b', г: 'r', п: 'n', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ь: 'b',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X', І: 'I', Ј: 'J', Ѕ: 'S', Ԛ: 'Q', Ԝ: 'W',
  α: 'a', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y',
  Ϝ: 'F', Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
  ս: 'u', ո: 'n', օ: 'o', հ: 'h', ց: 'g',
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm', ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
  ɡ: 'g', ɑ: 'a', ı: 'i', ȷ: 'j',
  // Lisu and Cherokee letters drawn like Latin ones.
  ꓲ: 'I', ꓳ: 'O', ꓮ: 'A', ꓰ: 'E', ꓢ: 'S', ꓔ: 'T', ꓠ: 'N', ꓣ: 'R', ꓑ: 'P', ꓚ: 'C', ꓓ: 'D', ꓡ: 'L', ꓟ: 'M', Ꭵ: 'i', Ꭺ: 'A', Ꭼ: 'E', Ꮋ: 'H', Ꭻ: 'J', Ꮶ: 'K', Ꮇ: 'M', Ꮲ: 'P', Ꮪ: 'S', Ꮃ: 'W', Ꮯ: 'C', Ꮮ: 'L', Ꮢ: 'R', Ꭲ: 'T',
};
const LOOKALIKE_CLASS = `[${Object.keys(LOOKALIKES).join('')}]`;
const LOOKALIKE_ANY = new RegExp(`[${Object.keys(LOOKALIKES).join('')}]`, 'g');

/**
 * Characters that show nothing: zero-width space, joiners, word joiner, the invisible mathematical
 * operators, byte-order mark, soft hyphen, the Mongolian vowel separator, Hangul and Khmer fillers.
 */
const INVISIBLE = '\u00AD\u200B-\u200D\u2060-\u2064\uFEFF\u180E\u3164\u115F\u1160\uFFA0\u17B4\u17B5';
const INVISIBLE_ANY = new RegExp(`[${INVISIBLE}]+`, 'g');

/** Digits and signs leetspeak writes for letters. `1` is `i` or `l`: both readings are tried. */
const LEET: Readonly<Record<string, string>> = { '0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '9': 'g', '@': 'a', $: 's' };
const LEET_ANY = /[0134579@$]/g;
/** A word with a letter in it: only there are digits letters (`4ll`, not `2024` or `$100`). */
const WORD_WITH_LETTER = /(?=[a-z0-9@$]*[a-z])[a-z0-9@$]+/gi;
/**
 * Where look-alike letters or invisible characters spell a word: a Latin letter beside a look-alike
 * of another script, an invisible character between two letters, three small capitals in a row.
 */
export const LOOKALIKE_AT = new RegExp(`[A-Za-z]${LOOKALIKE_CLASS}|${LOOKALIKE_CLASS}[A-Za-z]|[A-Za-z][${INVISIBLE}]+[A-Za-z]|[ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ]{3}`, 'g');
/**
 * Whether a text may hold one, or characters that smuggle text (below): one class of ranges (a class
 * of many single letters cost three times more). `\uDB40` leads every tag and supplementary selector.
 */
export const LOOKALIKE_CUE = /[\u00AD\u200B-\u200D\u2060-\u2064\uFEFF\u180E\u3164\u115F\u1160\uFFA0\u17B4\u17B5\u0370-\u03FF\u1F00-\u1FFF\u0400-\u04FF\u0530-\u058F\u13A0-\u13FF\uA4D0-\uA4FF\u1D00-\u1D2B\uA730\uA731\u0250-\u02AF\u0131\u0237\uFE00-\uFE0F\uDB40]/;

/**
 * Text smuggled in characters that show nothing: ASCII as tag characters (U+E0020–E007E, the "ASCII
 * smuggler"), and bytes as variation selectors after a visible character (U+FE00–FE0F for 0–15,
 * U+E0100–E01EF for 16–255). A person sees an emoji or nothing; a model's tokenizer reads the text.
 */
export const TAG_RUN = /(?:\uDB40[\uDC20-\uDC7E]){6,4096}/g;
/** Bits as two invisible operators ("sneaky bits": U+2062 INVISIBLE TIMES for 0, U+2064 INVISIBLE PLUS for 1), eight to a byte. */
export const INVISIBLE_BITS_RUN = /[\u2062\u2064]{48,65536}/g;
export function invisibleBitsDecoded(given: string): string | null {
  // (A run is handed over with the visible letters before it.)
  const run = given.replace(/[^\u2062\u2064]/g, '');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= run.length; i += 8) {
    let b = 0;
    for (let j = i; j < i + 8; j++) b = (b << 1) | (run.charCodeAt(j) === 0x2064 ? 1 : 0);
    bytes.push(b);
  }
  const text = Buffer.from(bytes).toString('utf8');
  return text.includes('\ufffd') ? null : text;
}
export const SELECTOR_RUN = /(?:[\uFE00-\uFE0F]|\uDB40[\uDD00-\uDDEF]){6,8192}/g;
export const tagsDecoded = (run: string): string => run.replace(/\uDB40([\uDC20-\uDC7E])/g, (_, low: string) => String.fromCharCode(low.charCodeAt(0) - 0xdc00));
export function selectorsDecoded(given: string): string | null {
  const run = given.replace(/[^\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu, '');
  const bytes = [...run].map((c) => {
    const cp = c.codePointAt(0)!;
    return cp <= 0xfe0f ? cp - 0xfe00 : cp - 0xe0100 + 16;
  });
  const text = Buffer.from(bytes).toString('utf8');
  return text.includes('\ufffd') ? null : text;
}

/**
 * The beginnings of the words orders are made of. Leetspeak, spaced letters and Morse are found by
 * these words so spelt, through the keyword pass every text gets anyway: a test of their own over
 * every text (code is full of `s3Client` and `0x7f`) cost as much as the rest of the scan.
 */
const STEMS = ['ignor', 'disreg', 'forget', 'forgot', 'previo', 'instruc', 'system', 'prompt', 'reveal', 'passw', 'secret', 'bypass', 'overrid', 'guideli', 'restric', 'jailbr', 'everyth', 'unfilte', 'uncens', 'respon', 'output'];
const LEET_OPTIONS: Readonly<Record<string, readonly string[]>> = { a: ['a', '4', '@'], e: ['e', '3'], g: ['g', '9'], i: ['i', '1'], l: ['l', '1'], o: ['o', '0'], s: ['s', '5', '$'], t: ['t', '7'] };

/** Every spelling of a stem with at least one letter in leetspeak (`1gnor`, `ign0r`, `p@55w`). */
function leetSpellings(stem: string): string[] {
  let out = [''];
  for (const c of stem) out = out.flatMap((head) => (LEET_OPTIONS[c] ?? [c]).map((x) => head + x));
  return out.filter((w) => w !== stem);
}
/**
 * The stems an order cannot do without, for the spellings that multiply (each stem in leetspeak has up
 * to 36 spellings, spaced out 15): every keyword grows the automaton every text is walked through.
 */
const CORE_STEMS = ['ignor', 'disreg', 'forget', 'previo', 'instruc', 'system', 'prompt', 'reveal', 'passw', 'secret', 'bypass', 'jailbr'];
export const LEET_KEYWORDS: readonly string[] = [...new Set(CORE_STEMS.flatMap(leetSpellings))];
/** Where a leetspeak word stands: one of those spellings. */
export const LEET_AT = new RegExp(LEET_KEYWORDS.map((k) => k.replace(/[$|]/g, '\\$&')).join('|'), 'gi');

const SPACERS = [' ', '  ', '-', '.', '_', '*', '/', ',', ' - ', ' / '];
/** The first four letters of each stem with a separator between each (`i g n o`, `i-g-n-o`). */
export const SPACED_KEYWORDS: readonly string[] = [...new Set(CORE_STEMS.flatMap((stem) => SPACERS.map((sep) => [...stem.slice(0, 4)].join(sep))))];

/**
 * Words run together in camelCase (`whatIsYourSystemPrompt`, `ignoreAllPreviousInstructions`): found
 * by the pairs of words an order runs together (lower-cased, as the keyword pass reads them; not
 * `systemprompt` alone, which every agent's code names), read back with a space at each capital.
 */
export const CAMEL_KEYWORDS: readonly string[] = ['yoursystem', 'yourinstruction', 'yourprompt', 'yourrules', 'yourguidelines', 'yourinitial', 'ignoreall', 'ignoreprevious', 'ignoreyour', 'previousinstruction', 'disregardall', 'disregardprevious', 'forgetall', 'forgeteverything', 'revealyour', 'showyour', 'printyour', 'repeatyour', 'secretpassword', 'yourpassword', 'thepassword', 'systeminstructions'];
/**
 * Where one stands in a run of words, not in an identifier of code: a guardrail's
 * `ignorePreviousInstructions: { action: "block" }` or `RevealYourSystemPrompt = "…"` names the attack it blocks.
 */
export const CAMEL_AT = new RegExp(`(?<![.$\\w])[A-Za-z]*(?:${CAMEL_KEYWORDS.join('|')})[A-Za-z]*(?![\\w$])(?!\\s*[:=(\\[{,;)])`, 'gi');
export const camelSplit = (text: string): string => text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([,.;:?!])(?=[A-Za-z])/g, '$1 ');

/**
 * Ciphers used without being named (ROT13, Atbash, Caesar's shift of three) and text written
 * backwards: found by the stems so enciphered (`vtabe`, `flfgrz`, `kilnkg`, `metsys`), read back with each.
 */
export const rot = (s: string, by: number): string => s.replace(/[a-z]/gi, (c) => {
  const base = c <= 'Z' ? 65 : 97;
  return String.fromCharCode(((c.charCodeAt(0) - base + by + 26) % 26) + base);
});
export const atbashed = (s: string): string => s.replace(/[a-z]/gi, (c) => (c <= 'Z' ? String.fromCharCode(155 - c.charCodeAt(0)) : String.fromCharCode(219 - c.charCodeAt(0))));
export const backwards = (s: string): string => [...s].reverse().join('');
export const CIPHER_KEYWORDS: readonly string[] = [...new Set(STEMS.flatMap((stem) => [rot(stem, 13), atbashed(stem), rot(stem, 3), backwards(stem)]))];
export const CIPHER_AT = new RegExp(CIPHER_KEYWORDS.join('|'), 'gi');
/** A window read back every way a keyword above may have come from. */
export const deciphered = (window: string): string[] => [rot(window, 13), atbashed(window), rot(window, -3), backwards(window)];

/**
 * The text with invisible characters taken out, compatibility forms (`ｍ`, `𝐡`) and accents undone,
 * then look-alike letters read as Latin ones (accents first: a Greek `έ` is an `ε`, which reads as `e`).
 */
export function plainLetters(text: string): string {
  return unaccented(text.replace(INVISIBLE_ANY, '')).replace(LOOKALIKE_ANY, (c) => LOOKALIKES[c]!);
}

/** Compatibility forms (`ｍ`, `𝐡`, `①`) and every mark taken off (accents, a pile of combining marks), in the canonical composed form. */
export const unaccented = (s: string): string => s.normalize('NFKD').replace(/\p{M}+/gu, '').normalize('NFKC');

/**
 * The text's leetspeak read back, with `1` as `i` (`1gn0r3`) or as `l` (`h3110`); in words with a
 * letter, or (`everyWord`) in words of digits too (`Wh47 15 y0ur`: `15` is "is" there).
 */
export function leetUndone(text: string, one: 'i' | 'l', everyWord = false): string {
  const undo = (word: string) => word.replace(LEET_ANY, (c) => (c === '1' ? one : LEET[c]!));
  return everyWord ? undo(text) : text.replace(WORD_WITH_LETTER, undo);
}

/**
 * Single letters with a separator between each (`i g n o r e   a l l`, `i-g-n-o-r-e a-l-l`,
 * `I.G.N.O.R.E`): at least six in a row, each on its own.
 */
export const SPACED_RUN = /(?<![A-Za-z0-9])[A-Za-z](?:[ .\-_*|+~\/,\t]{1,4}[A-Za-z](?![A-Za-z0-9])){5,600}/g;

/**
 * A spaced run read back: the separator used most stands between the letters of a word; any
 * other (three spaces, a space where the letters have dashes) between words. A run with one
 * separator throughout is one word.
 */
export function spacedJoined(run: string): string {
  const letters = run.match(/[A-Za-z]/g)!;
  const gaps = run.split(/[A-Za-z]/).slice(1, -1);
  const counts = new Map<string, number>();
  for (const g of gaps) counts.set(g, (counts.get(g) ?? 0) + 1);
  let usual = '';
  let most = 0;
  for (const [g, n] of counts) if (n > most) [usual, most] = [g, n];
  let out = letters[0]!;
  gaps.forEach((g, i) => (out += (g === usual ? '' : ' ') + letters[i + 1]!));
  return out;
}

const MORSE: Readonly<Record<string, string>> = {
  '.-': 'a', '-...': 'b', '-.-.': 'c', '-..': 'd', '.': 'e', '..-.': 'f', '--.': 'g', '....': 'h', '..': 'i', '.---': 'j', '-.-': 'k', '.-..': 'l', '--': 'm',
  '-.': 'n', '---': 'o', '.--.': 'p', '--.-': 'q', '.-.': 'r', '...': 's', '-': 't', '..-': 'u', '...-': 'v', '.--': 'w', '-..-': 'x', '-.--': 'y', '--..': 'z',
  '-----': '0', '.----': '1', '..---': '2', '...--': '3', '....-': '4', '.....': '5', '-....': '6', '--...': '7', '---..': '8', '----.': '9',
  '.-.-.-': '.', '--..--': ',', '..--..': '?', '-.-.--': '!', '---...': ':', '.----.': "'",
};
/** Morse code: at least six symbols of dots and dashes, letters a space apart, words a slash or several spaces apart. */
export const MORSE_RUN = /(?<![\w.-])[.-]{1,7}(?:(?: {1,3}| ?\/ ?)[.-]{1,7}){5,2000}(?![\w.-])/g;

/** The stems in Morse, a space between letters: Morse is found by the words it spells. */
export const MORSE_KEYWORDS: readonly string[] = (() => {
  const code = new Map(Object.entries(MORSE).map(([symbol, c]) => [c, symbol]));
  return STEMS.map((stem) => [...stem.slice(0, 4)].map((c) => code.get(c)!).join(' '));
})();

/** Morse read back; null when a symbol is not a letter's (dashes drawn as a rule, a row of dots). */
export function morseDecoded(run: string): string | null {
  let out = '';
  for (const word of run.trim().split(/ ?\/ ?| {2,}/)) {
    for (const symbol of word.split(' ')) {
      if (!symbol) continue;
      const c = MORSE[symbol];
      if (c === undefined) return null;
      out += c;
    }
    out += ' ';
  }
  return out.trimEnd();
}
