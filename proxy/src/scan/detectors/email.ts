import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';

const ASSET_EXTENSION = /\.(?:png|jpe?g|gif|svg|webp|avif|bmp|ico|tiff?|heic|css|js|mjs|cjs|jsx|tsx|json|ya?ml|toml|txt|html?|pdf|woff2?|ttf|otf|wasm|scss)$/i;
/** Characters of code an unusual local part may begin with (`key=`, `` ` ``, `|`, braces, a path), and the quotes and dots after them. */
const CODE_PREFIX = /^(?:[^]*[=`|{}/])?['.-]*/u;

// Letters, marks and digits of any script (addresses are internationalised: RFC 6531).
const WORD = String.raw`\p{L}\p{M}\p{N}`;
// A domain's digits are decimal ones: IDNA maps away `⒈` and its kind, so no host has them.
const HOST = String.raw`\p{L}\p{M}\p{Nd}`;
const LABEL = String.raw`[\p{L}\p{Nd}](?:[${HOST}-]{0,62}[${HOST}])?`;
const LOCAL = [
  // Quoted: "john smith"@example.org, escapes allowed.
  String.raw`"(?:[^"\\\r\n]|\\[^\r\n]){1,64}"`,
  // Every character RFC 5322 allows (!#$%&'*+/=?^_\`{|}~), but only where a token starts: inside
  // a URL or an assignment these are its punctuation, and the check trims what is code.
  String.raw`(?<=^|[\s<>(\[,;"'=])[${WORD}._%+!#$&'*/=?^${'`'}{|}~-]{1,64}`,
  String.raw`[\p{L}\p{N}][${WORD}._%+-]{0,63}`,
].join('|');

/** A domain written as an address literal (RFC 5321 §4.1.3): `[192.0.2.1]`, `[IPv6:2001:db8::1]`. */
const ADDRESS_LITERAL = String.raw`\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]{2,45})\]`;

/**
 * Email addresses, ASCII or internationalised (`jeff@臺網中心.tw`, `a@xn--d1acufc.xn--p1ai`),
 * quoted local parts and address literals (`user@[192.0.2.1]`) included. Not an SSH remote (`git@host:org/repo`), a URL's user info
 * (`https://user@host`, `user:pass@host`), a package pin (`pkg@1.2.3`, no top-level domain) or
 * a retina asset (`logo@2x.png`).
 */
export function emailDetector(): Detector {
  return new RegexDetector(
    'pii-email',
    'pii.email',
    'pii',
    ['@'],
    new RegExp(
      String.raw`(?<![${WORD}_.+\-/])(?<!(?<![Mm][Aa][Ii][Ll][Tt][Oo]):)(?:${LOCAL})@(?:${LABEL}(?:\.${LABEL}){0,8}\.(?:\p{L}[\p{L}\p{M}]{1,23}|xn--[A-Za-z0-9-]{1,59})(?![${HOST}_@-])|${ADDRESS_LITERAL})`,
      'gu',
    ),
    (m) => {
      const text = m[0];
      // user@host:path is an scp-style remote (git@github.com:org/repo), not a mailbox.
      if (/^:[\w~/.-]/.test(m.input.slice(m.index + text.length, m.index + text.length + 2))) return null;
      // logo@2x.png, icon@3x.webp: a retina asset; these extensions are no top-level domain.
      if (ASSET_EXTENSION.test(text)) return null;
      let start = m.index;
      // `` `@builtin.num` ``, `+@scope.pkg`: a quote or an operator before a reference or a package scope, not a mailbox.
      if (/^[`'=+]$/.test(text.slice(0, text.lastIndexOf('@')))) return null;
      if (text[0] !== '"') {
        // `key='bob@corp.example`: the address is what follows the code, when anything of it does.
        const local = text.slice(0, text.lastIndexOf('@'));
        const prefix = CODE_PREFIX.exec(local)![0].length;
        if (prefix > 0 && /[\p{L}\p{N}]/u.test(local.slice(prefix))) {
          if (local.lastIndexOf('/', prefix) !== -1) return null; // path/to/user@host: a path's user, as in a URL
          start += prefix;
        }
      }
      return { start, end: m.index + text.length };
    },
    undefined,
    // A local part is at most 64 characters (quoted, 64 with escapes; astral ones are two units
    // each; `mailto:` before it) and a domain at most nine labels of 64 and a top-level domain:
    // every match sits within these bounds of its '@'.
    { literal: '@', before: 200, after: 1200 },
  );
}
