import type { Gate } from './gates.js';
import type { Detector, Span } from './types.js';

/**
 * An injection hidden in an encoding the model reads and a filter does not: a Base64 run or
 * eight-bit binary groups that decode to readable text holding an order the other injection
 * detectors find (`SWdub3JlIHByZXZpb3Vz…`, `01001001 01100111 …`). Only runs long enough to say
 * something are decoded, and only readable text is judged; a key, a hash or an image decodes to bytes.
 */
const BASE64 = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=_-])/g;
const BINARY = /(?<![01])[01]{8}(?:[ ,]?[01]{8}){5,511}(?![01])/g;
/** At most this much of one run is decoded (a payload comes first), and this much in all in one text: a page of data URIs is not read whole. */
const MAX_RUN_CHARS = 4096;
const MAX_DECODED_CHARS = 256 * 1024;

function readable(s: string): boolean {
  if (s.length < 12) return false;
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9 || c >= 160) ok++;
  }
  return ok / s.length > 0.95 && /[a-z]{3,}\s+[a-z]{2,}/i.test(s);
}

function decodeBase64(run: string): string | null {
  const bytes = Buffer.from(run, 'base64');
  const text = bytes.toString('utf8');
  return text.includes('\ufffd') ? null : text;
}

function decodeBinary(run: string): string {
  return (run.match(/[01]{8}/g) ?? []).map((b) => String.fromCharCode(parseInt(b, 2))).join('');
}

const isBase64 = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47;
const isBinary = (c: number): boolean => c === 48 || c === 49 || c === 32 || c === 44;

/**
 * Whether the text holds a run of `length` characters of a class: only every (length − 1)th
 * character is looked at (a run that long holds one of them), and the run is measured around it.
 * Prose is letters and spaces: a regex gate tried at every position cost ten times more.
 */
function hasRun(text: string, length: number, member: (c: number) => boolean, enough: (from: number, to: number) => boolean): boolean {
  for (let i = length - 1; i < text.length; i += length - 1) {
    if (!member(text.charCodeAt(i))) continue;
    let from = i;
    let to = i + 1;
    while (from > 0 && member(text.charCodeAt(from - 1))) from--;
    while (to < text.length && member(text.charCodeAt(to))) to++;
    if (to - from >= length && enough(from, to)) return true;
    i = to; // the run is measured; the next sample starts after it
  }
  return false;
}

/** 24 Base64 characters in a row, or 24 binary digits in groups (`01001001 01100111 01101110`). */
function hasLongRun(text: string): boolean {
  const bits = (from: number, to: number): boolean => {
    let n = 0;
    for (let i = from; i < to && n < 24; i++) if (text.charCodeAt(i) === 48 || text.charCodeAt(i) === 49) n++;
    return n >= 24;
  };
  return hasRun(text, 24, isBase64, () => true) || hasRun(text, 26, isBinary, bits);
}

export class EncodedInjectionDetector implements Detector {
  readonly id = 'injection-encoded';
  readonly label = 'injection.override';
  readonly family = 'injection' as const;
  readonly keywords: readonly string[] = [];
  readonly gate: Gate = { test: hasLongRun };

  /** `inner`: the detectors an order is looked for with in the decoded text (the plain-text injection rules). */
  constructor(private readonly inner: readonly Detector[]) {}

  find(text: string): Span[] {
    const spans: Span[] = [];
    let budget = MAX_DECODED_CHARS;
    for (const [re, decode] of [[BASE64, decodeBase64], [BINARY, decodeBinary]] as const) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m && budget > 0; m = re.exec(text)) {
        // A Base64 run of letters alone is a word or an identifier, not an encoding; hex is a hash.
        if (re === BASE64 && ((!/\d|[+/]/.test(m[0]) && !/[a-z][A-Z]|[A-Z]{2}[a-z]/.test(m[0])) || /^[0-9a-fA-F]+$/.test(m[0]))) continue;
        const run = m[0].length > MAX_RUN_CHARS ? m[0].slice(0, MAX_RUN_CHARS) : m[0];
        budget -= run.length;
        const decoded = decode(run);
        if (decoded === null || !readable(decoded)) continue;
        if (this.inner.some((d) => d.find(decoded).length > 0)) spans.push({ start: m.index, end: m.index + m[0].length });
      }
    }
    return spans;
  }
}
