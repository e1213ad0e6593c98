import { RegexDetector } from './regex-detector.js';
import type { Detector, Family, Span } from './types.js';
import { shannonEntropy } from './validators.js';

/**
 * Exfiltration links: a URL the model is led to fetch (a markdown image loads without a click) or
 * to write out, built to carry the conversation or a secret to someone else. Four shapes, each
 * with its own check:
 * - a markdown image whose query already carries data (encoded text, not `style=flat-square`,
 *   a size, a version or the path of the picture itself);
 * - a URL with a template placeholder naming something sensitive (`{{conversation_history}}`,
 *   `${OPENAI_API_KEY}`), not an ordinary one (`{owner}`, `{id}`);
 * - a URL left for the model to fill in (`?d=`, `?d=DATA`, `?b=<that base64>`) next to words
 *   telling it to, and with what: the conversation, the user's messages, a summary, credentials;
 * - an instruction to send such material to a URL.
 */
export function exfiltrationDetector(): Detector {
  const id = 'injection-exfiltration-link';
  const label = 'injection.exfil_link';
  const part = (re: RegExp, check: (m: RegExpExecArray) => Span | null) => new RegexDetector(id, label, 'injection', [], re, check);
  return new AnyOfDetector(id, label, 'injection', ['http', '","', '", "'], [
    part(/!\[[^\]\n]{0,100}\]\(\s*https?:\/\/[^\s)]{1,400}/g, (m) => (queryCarriesData(m[0]) ? whole(m) : null)),
    // Placeholders and open parameters are found first and then the URL around them: a pattern
    // that started at every `http` and looked ahead for them would cost hundreds of steps per URL.
    new InsideUrl(/\{[A-Za-z_ .]{2,40}\}|%7B[A-Za-z_]{2,40}%7D|\[[A-Za-z_ ]{2,30}\]/gi, `"'<>`, 200, placeholderNamesData),
    // `?d=`, `?d=<data>`, `?d=DATA`, and `/azure=[INFO]` (a bracketed word the text says to replace).
    new InsideUrl(/(?:[?&]|\/)[\w.-]{1,30}=(<[^<>\n]{1,40}>|\[[A-Z][A-Z0-9_]{1,20}\]|[A-Z][A-Z0-9_]{1,30}(?![\w%])|(?=[\s"')\]]|$))/g, `"'<>()`, 300, fillIn),
    new SplitUrl(),
    part(
      /\b(?:send|post|forward|exfiltrate|upload|leak|transmit|append)\b[^\n]{0,80}?\b(your\s+)?(?:(passwords?|secrets?|tokens?|api keys?|credentials)|conversation|chat history|user data|personal data|system prompt)\b[^\n]{0,80}?https?:\/\//gi,
      // "Send your API key in the header to https://api…" is how an API's docs talk to their reader.
      (m) => (m[1] && m[2] ? null : whole(m)),
    ),
  ]);
}

type Finder = Pick<Detector, 'find'>;

/** One rule written as several patterns, each with its own check; every pattern's spans. */
class AnyOfDetector implements Detector {
  constructor(
    readonly id: string,
    readonly label: string,
    readonly family: Family,
    readonly keywords: readonly string[],
    private readonly parts: readonly Finder[],
  ) {}

  find(text: string): Span[] {
    return this.parts.flatMap((p) => p.find(text));
  }
}

const whole = (m: RegExpExecArray): Span => ({ start: m.index, end: m.index + m[0].length });

/**
 * Matches of `re` that lie inside an `http(s)://` URL (one that began at most `max` characters
 * before, with none of `stops` or whitespace since), passed to `decide` with where the URL begins.
 * One pass: where the last URL began and the last stop was are carried forward from match to match.
 */
class InsideUrl implements Finder {
  /** 1 for the characters that end a URL here: ASCII whitespace and controls, and `stops`. */
  readonly #ends = new Uint8Array(128);

  constructor(
    private readonly re: RegExp,
    stops: string,
    private readonly max: number,
    private readonly decide: (m: RegExpExecArray, urlStart: number) => Span | null,
  ) {
    this.#ends.fill(1, 0, 33);
    for (const c of stops) this.#ends[c.charCodeAt(0)] = 1;
  }

  find(text: string): Span[] {
    const spans: Span[] = [];
    const ends = this.#ends;
    let scanned = 0;
    let lastStop = -1;
    let lastUrl = -1;
    this.re.lastIndex = 0;
    for (let m = this.re.exec(text); m; m = this.re.exec(text)) {
      for (; scanned < m.index; scanned++) {
        const c = text.charCodeAt(scanned);
        if (c < 128 && ends[c] === 1) lastStop = scanned;
        else if ((c === 104 || c === 72) && urlBeginsAt(text, scanned)) lastUrl = scanned;
      }
      if (lastUrl > lastStop && m.index - lastUrl <= this.max) {
        const span = this.decide(m, lastUrl);
        if (span) spans.push(span);
      }
    }
    return spans;
  }
}

/** `http://` or `https://`, any case, at `at` (which holds an h); by character, as this runs at every h of a text. */
function urlBeginsAt(text: string, at: number): boolean {
  const lower = (i: number) => text.charCodeAt(at + i) | 32;
  if (lower(1) !== 116 || lower(2) !== 116 || lower(3) !== 112) return false;
  const colon = lower(4) === 115 ? 5 : 4;
  return text.startsWith('://', at + colon);
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

const PICTURE = /\.(?:png|jpe?g|gif|svg|webp|avif|ico|bmp)$/i;

/**
 * Some query value is data rather than a setting: base64-like (long, mixed case, random) or a
 * sentence. Labels (`label=code+coverage`), styles, sizes, versions and the picture's own path
 * (`/_next/image?url=%2Fhero.jpg`) are settings.
 */
function queryCarriesData(url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  return url
    .slice(q + 1)
    .split('&')
    .some((pair) => {
      if (!pair.includes('=')) return false;
      const value = decoded(pair.slice(pair.indexOf('=') + 1));
      if (/^(?:\/|https?:)/i.test(value) || PICTURE.test(value)) return false;
      const encoded = /^[A-Za-z0-9+/_=-]{12,}$/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value) && shannonEntropy(value) > 3.5;
      return encoded || value.trim().split(/\s+/).length >= 4;
    });
}

const SENSITIVE_NAME =
  /conversation|history|chat|messages?|prompt|secret|token|api_?key|apikey|access_?key|private_?key|password|passwd|credential|session|cookie|e?mail|user_?(?:data|info|input)|personal|summary|context|memory|ssn|card|\bdata\b/i;

/** A `{…}`, `%7B…%7D` or `[…]` placeholder that names something sensitive, inside a URL: the URL up to it. */
function placeholderNamesData(m: RegExpExecArray, urlStart: number): Span | null {
  return SENSITIVE_NAME.test(m[0]) ? { start: urlStart, end: m.index + m[0].length } : null;
}

/**
 * What an attacker asks to be put in the URL. "Your API key" is how docs address their reader, and
 * `api_key=` is a parameter name, so neither counts.
 */
const DATA_REF =
  /(?:\b(?:conversation|chat(?:\s+(?:history|log|transcript))?|(?:previous|prior|earlier|last|above|all|these|those|user'?s?)\s+(?:\w+\s+){0,2}?messages?|message\s+history|history|system\s+prompt|summary\s+of|everything\s+(?:the\s+user|you)|the\s+user'?s|credentials|secrets?|api[\s_-]?keys?|passwords?|access\s+tokens?|private\s+keys?|id_rsa)\b(?!=)|(?<![\w.])(?:~?\/)?\.(?:aws|ssh|env)\b)/gi;
/** Words that tell the model to complete or use the URL, as docs and code do not. */
const TELLS_TO_FILL = /\b(?:append\w*|add|attach|include|insert|put|fill\w*|replac\w*|substitut\w*|followed\s+by|concatenat\w*|encode\w*|url-encoded|open|visit|browse|fetch|load|render)\b/i;
const PLACEHOLDER_REFERS = /\b(?:that|this|the|it|encoded|base64|result|output|data|conversation|history|messages?|summary|contents?)\b/i;

/** Words that say the slot takes something encoded (`where QUERY is the base64 encoded …`): data made to travel in a URL. */
const ENCODED = /\b(?:base-?64|base-?32|hex-?encoded|url-?encoded|encod(?:e|ed|ing)|rot-?13)\b/i;

function mentionsData(context: string): boolean {
  for (const ref of context.matchAll(DATA_REF)) {
    const addressesReader = /\byour\s+$/i.test(context.slice(Math.max(0, ref.index - 6), ref.index));
    if (!addressesReader || /conversation|message|history|prompt/i.test(ref[0])) return true;
  }
  return false;
}

/** A URL's query value left open (`?d=`), a `<placeholder>` or an ALLCAPS word the text then says what to put in. */
function fillIn(m: RegExpExecArray, start: number): Span | null {
  const value = m[1];
  const text = m.input;
  const end = m.index + m[0].length;
  const context = text.slice(Math.max(0, start - 300), start) + ' ' + text.slice(end, end + 300);
  if (value?.startsWith('[')) {
    // "replace [INFO] with …", "where QUERY is …": the slot is explained outside the URL.
    const word = new RegExp(String.raw`\b${value.slice(1, -1)}\b`);
    if (!text.includes(value, end) && !text.slice(Math.max(0, start - 300), start).includes(value) && !word.test(context)) return null;
  } else if (value?.startsWith('<')) {
    if (/^<\s*your\b/i.test(value) || !PLACEHOLDER_REFERS.test(value)) return null;
  } else if (value) {
    if (!new RegExp(String.raw`\b${value}\b`).test(context)) return null; // the word is explained elsewhere: "replacing DATA with …"
  } else if (/^["']\w/.test(text.slice(end, end + 2))) return null; // `?query='hello'`: quoted in code, not left open
  // A markdown image loads by itself once the answer is shown: a slot in one the text says to fill with something encoded is filled to be sent.
  const image = /!\[[^\]\n]{0,100}\]\(\s*$/.test(text.slice(Math.max(0, start - 110), start)) && ENCODED.test(context);
  return TELLS_TO_FILL.test(context) && (image || mentionsData(context)) ? { start, end } : null;
}

/**
 * A link the model is asked to assemble from pieces (`"![t","](htt","ps",":/","/wu","zzi.net/l.png?q=","[INFO]"`),
 * so that no piece looks like a URL: a run of short quoted strings is joined, and the join is
 * judged as the text itself would be.
 */
class SplitUrl implements Finder {
  static readonly RUN = /(?:"[^"\n]{0,16}"[ \t]*,[ \t]*\n?[ \t]*){4,200}"[^"\n]{0,16}"/g;

  find(text: string): Span[] {
    const spans: Span[] = [];
    SplitUrl.RUN.lastIndex = 0;
    for (let m = SplitUrl.RUN.exec(text); m; m = SplitUrl.RUN.exec(text)) {
      const joined = [...m[0].matchAll(/"([^"\n]{0,16})"/g)].map((q) => q[1]).join('');
      if (!/https?:\/\/[^\s)"]{3,}/i.test(joined)) continue;
      // The assembled link must carry or be told to carry data: a query or a placeholder, and words around it that say what.
      const around = text.slice(Math.max(0, m.index - 300), m.index + m[0].length + 300);
      if (/[?=]|\[[A-Z]{2,}\]/.test(joined) && (mentionsData(around) || /\[[A-Z][A-Z0-9_]{1,20}\]/.test(joined + around))) spans.push({ start: m.index, end: m.index + m[0].length });
    }
    return spans;
  }
}
