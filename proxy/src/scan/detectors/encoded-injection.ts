import { windowed, type Gate } from './gates.js';
import type { Detector, Span } from './types.js';

/**
 * An injection hidden in an encoding the model reads and a filter does not: a Base64 run or
 * eight-bit binary groups that decode to readable text holding an order the other injection
 * detectors find (`SWdub3JlIHByZXZpb3Vz…`, `01001001 01100111 …`). Only runs long enough to say
 * something are decoded, and only readable text is judged; a key, a hash or an image decodes to bytes.
 */
const BASE64 = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/]{24,4096}={0,2}(?![A-Za-z0-9+/=_-])/g;
const BINARY = /(?<![01])[01]{8}(?:[ ,]?[01]{8}){5,511}(?![01])/g;
/** At most this many runs are decoded in one text: a page of data URIs is not read whole. */
const MAX_RUNS = 32;

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

export class EncodedInjectionDetector implements Detector {
  readonly id = 'injection-encoded';
  readonly label = 'injection.override';
  readonly family = 'injection' as const;
  readonly keywords: readonly string[] = [];
  readonly gate: Gate = windowed(/[A-Za-z0-9+/]{24}|[01]{8}[ ,]?[01]{8}[ ,]?[01]{8}/, 26);

  /** `inner`: the detectors an order is looked for with in the decoded text (the plain-text injection rules). */
  constructor(private readonly inner: readonly Detector[]) {}

  find(text: string): Span[] {
    const spans: Span[] = [];
    let runs = 0;
    for (const [re, decode] of [[BASE64, decodeBase64], [BINARY, decodeBinary]] as const) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m && runs < MAX_RUNS; m = re.exec(text)) {
        runs++;
        // A Base64 run of letters alone is a word or an identifier, not an encoding.
        if (re === BASE64 && !/\d|[+/]/.test(m[0]) && !/[a-z][A-Z]|[A-Z]{2}[a-z]/.test(m[0])) continue;
        const decoded = decode(m[0]);
        if (decoded === null || !readable(decoded)) continue;
        if (this.inner.some((d) => d.find(decoded).length > 0)) spans.push({ start: m.index, end: m.index + m[0].length });
      }
    }
    return spans;
  }
}
