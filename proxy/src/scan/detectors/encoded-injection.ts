import type { Gate } from './gates.js';
import type { Detector, Span } from './types.js';

/**
 * An injection hidden in an encoding the model reads and a filter does not: a Base64 run, eight- or
 * sixteen-bit binary groups, or hex bytes (run together or a space apart) that decode to readable
 * text holding an order the other injection detectors find (`SWdub3JlIHByZXZpb3Vz…`, `01001001
 * 01100111 …`, `63 72 65 61 …`). Only runs long enough to say
 * something are decoded, and only readable text is judged; a key, a hash or an image decodes to bytes.
 */
const BASE64 = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=_-])/g;
const BINARY = /(?<![01])[01]{8}(?:[ ,]?[01]{8}){5,511}(?![01])/g;
/** Bytes in hex, a space between each (`63 72 65 61 74 65 …`): twelve or more. */
const HEX_SPACED = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2}){11,4095}(?![0-9A-Fa-f])/g;
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

/** Eight-bit groups, or sixteen-bit ones (UTF-16 code units: `0000000001001111`), whose high bytes are then zeros. */
function decodeBinary(run: string): string {
  return (run.match(/[01]{8}/g) ?? []).map((b) => String.fromCharCode(parseInt(b, 2))).join('').replace(/\0/g, '');
}

const decodeHex = (run: string): string => Buffer.from(run.replace(/ /g, ''), 'hex').toString('latin1');

const isBase64 = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47;
const isBinary = (c: number): boolean => c === 48 || c === 49 || c === 32 || c === 44;
const isHexOrSpace = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 32;

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

/** Twelve hex bytes a space apart: a space at every third place of the run. */
function hasSpacedHex(text: string): boolean {
  const spacedHex = (from: number, to: number): boolean => {
    for (let i = from; i + 35 <= to; i++) if (text.charCodeAt(i + 2) === 32 && text.charCodeAt(i + 5) === 32 && text.charCodeAt(i + 32) === 32 && text.charCodeAt(i + 1) !== 32) return true;
    return false;
  };
  return hasRun(text, 35, isHexOrSpace, spacedHex);
}

export class EncodedInjectionDetector implements Detector {
  readonly id = 'injection-encoded';
  readonly label = 'injection.override';
  readonly family = 'injection' as const;
  readonly keywords: readonly string[];
  readonly gate: Gate;
  readonly #encodings: readonly (readonly [RegExp, (run: string) => string | null])[];

  /**
   * `inner`: the detectors an order is looked for with in the decoded text (the plain-text injection rules). `spacedHex`:
   * this instance reads hex bytes a space apart, found by the space's own byte (`20`, in every text of more than one
   * word; a gate of its own over prose, where a–f and spaces abound, cost a twentieth of the scan).
   */
  constructor(
    private readonly inner: readonly Detector[],
    spacedHex = false,
  ) {
    this.keywords = spacedHex ? ['20 ', ' 20'] : [];
    this.gate = { test: spacedHex ? hasSpacedHex : hasLongRun };
    this.#encodings = spacedHex ? [[HEX_SPACED, decodeHex]] : [[BASE64, decodeBase64], [BINARY, decodeBinary]];
  }

  find(text: string): Span[] {
    const spans: Span[] = [];
    let budget = MAX_DECODED_CHARS;
    for (const [re, decode] of this.#encodings) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m && budget > 0; m = re.exec(text)) {
        // A Base64 run of letters alone is a word or an identifier, not an encoding. A run of hex digits is read as hex
        // (`4F682C2062…`): a hash decodes to bytes, not words.
        if (re === BASE64 && !/\d|[+/]/.test(m[0]) && !/[a-z][A-Z]|[A-Z]{2}[a-z]/.test(m[0])) continue;
        const hex = re === BASE64 && /^(?:[0-9A-Fa-f]{2})+$/.test(m[0]);
        if (re === BASE64 && !hex && /^[0-9a-fA-F]+$/.test(m[0])) continue;
        const run = m[0].length > MAX_RUN_CHARS ? m[0].slice(0, MAX_RUN_CHARS) : m[0];
        budget -= run.length;
        const decoded = hex ? decodeHex(run) : decode(run);
        if (decoded === null || !readable(decoded)) continue;
        if (findsOrder(this.inner, decoded)) spans.push({ start: m.index, end: m.index + m[0].length });
      }
    }
    return spans;
  }
}

/** Whether the plain rules find an order in a decoded text: each behind its own keywords and gate, as the scan runs it. */
export function findsOrder(inner: readonly Detector[], text: string): boolean {
  const lower = text.toLowerCase();
  return inner.some((d) => (d.keywords.length === 0 || d.keywords.some((k) => lower.includes(k))) && (!d.gate || d.gate.test(text)) && d.find(text).length > 0);
}
