import { parse } from 'smol-toml';
import { isDocumentedExample } from './documented.js';
import { isPlaceholder, isPlaceholderPem, isPublicKey, looksMadeUp } from './placeholders.js';
import type { Detector, Span } from './types.js';
import { shannonEntropy } from './validators.js';

/**
 * The secret rules of gitleaks (policies/rules/gitleaks.toml, MIT, kept as published), read
 * into detectors. Its regexes are RE2 syntax; the few constructs JavaScript spells
 * differently are translated, and a rule that still does not compile is reported, not
 * silently dropped. Semantics follow gitleaks: the secret is the first non-empty capture
 * group (or `secretGroup`), it must reach the rule's entropy, generic rules need a digit,
 * and the rule's and the global allowlists (regexes on the secret, match or line; stopwords) apply.
 * Departures, because we scan prompts rather than source files: a secret may also end where a URL
 * query value or a markup element ends (see SECRET_END); credentials vendors publish in their docs
 * are not secrets (documented.ts), nor are made-up ones (`00aaaa…`, `a1b2c3d4…`, `"YOURPASSWORD"`,
 * a PEM block around `...`) or the hash of a secret (`"hashed_secret": "a248…"`).
 */

interface RawAllowlist {
  condition?: string;
  regexTarget?: string;
  regexes?: string[];
  stopwords?: string[];
  paths?: string[];
}

interface RawRule {
  id: string;
  regex?: string;
  secretGroup?: number;
  entropy?: number;
  keywords?: string[];
  allowlists?: RawAllowlist[];
  path?: string;
}

interface RawConfig {
  allowlist?: RawAllowlist;
  rules?: RawRule[];
}

export interface LoadedRules {
  detectors: Detector[];
  skipped: { id: string; why: string }[];
}

const POSIX: Record<string, string> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  digit: '0-9',
  xdigit: '0-9a-fA-F',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  punct: '!-\\/:-@\\[-`{-~',
  word: '\\w',
};

/**
 * gitleaks ends most secrets at a quote, whitespace, `;` or an escaped newline: enough for source
 * files, but a prompt also carries keys inside URLs (`?key=AIza…&callback=`) and markup
 * (`<code>…</code>`, `[link](…?token=…)`), where they end at `&`, `<` or `)`.
 */
const SECRET_END = String.raw`(?:[\x60'"\s;]|\\[nr]|$)`;
const SECRET_END_WIDER = String.raw`(?:[\x60'"\s;&<)]|\\[nr]|$)`;

/** How far an unbounded `.*` of a rule reaches on its line (see boundDotStars). */
const DOT_STAR_REACH = 512;

/**
 * RE2 runs in linear time whatever the pattern; V8 backtracks. A rule's `.*` after its keyword
 * (`\bcurl\b(?:.*?|…)[ \t](?:-H|--header)`) is retried to the end of the line from every keyword,
 * so a line of "curl curl curl …" cost seconds (7 s on 160 KB). Each unescaped `.*` outside a class
 * becomes `[^\r\n]{0,512}`: a command whose option stands further from its keyword is not one a
 * prompt holds, and the cost per keyword is bounded.
 */
export function boundDotStars(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      out += c + (src[i + 1] ?? '');
      i++;
    } else if (c === '[') {
      let j = i + 1;
      for (; j < src.length && src[j] !== ']'; j++) if (src[j] === '\\') j++;
      out += src.slice(i, j + 1);
      i = j;
    } else if (c === '.' && src[i + 1] === '*') {
      out += `[^\\r\\n]{0,${DOT_STAR_REACH}}`;
      i++;
    } else out += c;
  }
  return out;
}

/** RE2 → JavaScript: leading flag groups become flags, `\z` and `\A` anchors, POSIX classes, `(?P<n>`, bounded `.*`. */
export function toJsRegExp(source: string, extraFlags = ''): RegExp {
  let src = source;
  let flags = extraFlags;
  for (let m = /^\(\?([ims]+)\)/.exec(src); m; m = /^\(\?([ims]+)\)/.exec(src)) {
    for (const f of m[1]!) if (f !== 'm' && !flags.includes(f)) flags += f;
    if (m[1]!.includes('m') && !flags.includes('m')) flags += 'm';
    src = src.slice(m[0].length);
  }
  src = scopeInlineFlags(boundDotStars(src))
    .replace(/\\z/g, '$')
    .replace(/\\A/g, '^')
    .replace(/\(\?P</g, '(?<')
    .replace(/\[:(\w+):\]/g, (all, name: string) => POSIX[name] ?? all);
  return new RegExp(src, flags);
}

/** The end of the group that encloses position `from` (or the pattern's end), skipping escapes and classes. */
function groupEnd(src: string, from: number): number {
  let depth = 0;
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return src.length;
}

/** RE2's mid-pattern `(?i)` applies to the rest of its group; JavaScript needs it scoped: `(?i:...)`. */
function scopeInlineFlags(src: string): string {
  let out = src;
  for (let at = out.indexOf('(?i)'); at !== -1; at = out.indexOf('(?i)')) {
    const end = groupEnd(out, at + 4);
    out = `${out.slice(0, at)}(?i:${out.slice(at + 4, end)})${out.slice(end)}`;
  }
  return out;
}

function digitIn(s: string): boolean {
  return /\d/.test(s);
}

interface Allow {
  target: 'secret' | 'match' | 'line';
  regexes: RegExp[];
  stopwords: string[];
  /** AND: every present check must hold; OR (default): any. */
  and: boolean;
}

function compileAllow(raw: RawAllowlist): Allow | null {
  // Path-only allowlists are about repository files; a prompt has no path.
  if (!raw.regexes?.length && !raw.stopwords?.length) return null;
  return {
    target: (raw.regexTarget as Allow['target'] | undefined) ?? 'secret',
    regexes: (raw.regexes ?? []).flatMap((r) => {
      try {
        return [toJsRegExp(r)];
      } catch {
        return []; // an allowlist entry JavaScript cannot express: the rule fires more often, never less
      }
    }),
    stopwords: (raw.stopwords ?? []).map((w) => w.toLowerCase()),
    and: raw.condition?.toUpperCase() === 'AND',
  };
}

/** The name a generic rule's match assigns to: a digest of a secret is not the secret. */
const NAMES_A_DIGEST = /^[\s'"]*[\w.-]*(?:hash|digest|checksum|fingerprint|sha(?:1|256|512|sum)|md5)/i;

/** Before a generic rule's value: a sentence ended between the keyword and it (`password combination. R5: …`), or a Go module hash (`h1:`). */
const NOT_AN_ASSIGNMENT = /\.\s+\S[^:=]*[:=]|\bh1:$/;
/** A value that is itself a name of a secret (`Name = "txtCfmPassword"`): an identifier, not a credential. */
const NAMES_A_SECRET = /^[A-Za-z_][A-Za-z_]*(?:pass(?:word|wd)?|pwd|secret|token)[A-Za-z_]*$/i;

/** A made-up stand-in rather than a credential (placeholders.ts), judged without the quotes some rules capture. */
function madeUp(id: string, secret: string, match: string): boolean {
  if (id === 'private-key') return isPlaceholderPem(secret);
  if (id.startsWith('generic') && (NAMES_A_DIGEST.test(match) || NOT_AN_ASSIGNMENT.test(match.slice(0, Math.max(0, match.indexOf(secret)))))) return true;
  const bare = secret.replace(/^["'`]|["'`]$/g, '');
  return isPlaceholder(bare) || looksMadeUp(bare) || NAMES_A_SECRET.test(bare) || isPublicKey(bare);
}

/**
 * Rules that flag a public identifier (an OAuth client id, an access id, a publishable key): it names
 * an account or an app and is shown to browsers and users; the secret paired with it is what leaks.
 */
const PUBLIC_IDENTIFIER_RULE = /-(?:client-id|access-id|public-key|pub-api-key|pub-key)$/;

function lineAround(text: string, start: number, end: number): string {
  const a = text.lastIndexOf('\n', start - 1) + 1;
  const b = text.indexOf('\n', end);
  return text.slice(a, b === -1 ? text.length : b);
}

function allowed(list: readonly Allow[], secret: string, match: string, text: string, start: number, end: number): boolean {
  const lower = secret.toLowerCase();
  for (const a of list) {
    const target = a.target === 'secret' ? secret : a.target === 'match' ? match : lineAround(text, start, end);
    const byRegex = a.regexes.length > 0 ? a.regexes.some((r) => r.test(target)) : null;
    const byStopword = a.stopwords.length > 0 ? a.stopwords.some((w) => lower.includes(w)) : null;
    const checks = [byRegex, byStopword].filter((c): c is boolean => c !== null);
    if (a.and ? checks.every(Boolean) : checks.some(Boolean)) return true;
  }
  return false;
}

class GitleaksRule implements Detector {
  readonly label = 'secret';
  readonly family = 'secrets' as const;
  readonly #re: RegExp;

  constructor(
    readonly id: string,
    re: RegExp,
    readonly keywords: readonly string[],
    private readonly secretGroup: number,
    private readonly entropy: number,
    private readonly allow: readonly Allow[],
  ) {
    this.#re = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  }

  find(text: string): Span[] {
    const spans: Span[] = [];
    const re = this.#re;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      let secret = m[0];
      if (this.secretGroup > 0) secret = m[this.secretGroup] ?? '';
      else for (let g = 1; g < m.length; g++) if (m[g]) { secret = m[g]!; break; }
      if (!secret) continue;
      if (this.entropy > 0 && shannonEntropy(secret) <= this.entropy) continue;
      if (this.id.startsWith('generic') && !digitIn(secret)) continue;
      const start = m.index + Math.max(0, m[0].indexOf(secret));
      const end = start + secret.length;
      if (allowed(this.allow, secret, m[0], text, m.index, m.index + m[0].length) || isDocumentedExample(secret) || madeUp(this.id, secret, m[0])) continue;
      spans.push({ start, end });
    }
    return spans;
  }
}

export function loadGitleaks(toml: string): LoadedRules {
  const config = parse(toml) as unknown as RawConfig;
  const global = config.allowlist ? compileAllow(config.allowlist) : null;
  const detectors: Detector[] = [];
  const skipped: LoadedRules['skipped'] = [];
  for (const rule of config.rules ?? []) {
    if (!rule.regex) {
      skipped.push({ id: rule.id, why: 'matches file paths only' });
      continue;
    }
    if (PUBLIC_IDENTIFIER_RULE.test(rule.id)) {
      skipped.push({ id: rule.id, why: 'flags a public identifier, not a secret' });
      continue;
    }
    try {
      const allow = [...(rule.allowlists ?? []).map(compileAllow), global].filter((a): a is Allow => a !== null);
      const re = toJsRegExp(rule.regex.replaceAll(SECRET_END, SECRET_END_WIDER));
      const keywords = (rule.keywords ?? []).map((k) => k.toLowerCase()).filter((k) => /^[\x20-\x7e]+$/.test(k));
      detectors.push(new GitleaksRule(rule.id, re, keywords, rule.secretGroup ?? 0, rule.entropy ?? 0, allow));
    } catch (err) {
      skipped.push({ id: rule.id, why: (err as Error).message });
    }
  }
  return { detectors, skipped };
}
