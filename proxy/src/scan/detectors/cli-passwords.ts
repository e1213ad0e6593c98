import { isLiteralPassword } from './password-literal.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';

/**
 * Passwords given to a command: `--password=p`, PowerShell's `-Password p`, `-u user -p p` (PsExec,
 * `mysql -uroot -pP`), `sshpass -p p`, and an environment assignment in front of the command
 * (`PGPASSWORD=p psql …`). Variables, prompts and placeholders (`-p $Password`, `-p %PASS%`) are not passwords.
 */

/** A flag's value: quoted, or a bare word (groups: double, single, bare). */
const ARG = String.raw`(?:"([^"\s]{1,128})"|'([^'\s]{1,128})'|([^\s"'\x60;|&<>()]{1,128}))`;

function argument(m: RegExpExecArray, first: number): { value: string; quoted: boolean; span: Span } | null {
  const g = [m[first], m[first + 1], m[first + 2]];
  const i = g.findIndex((v) => v !== undefined);
  if (i === -1) return null;
  const value = g[i]!;
  const end = m.index + m[0].length - (i === 2 ? 0 : 1);
  return { value, quoted: i !== 2, span: { start: end - value.length, end } };
}

/** mysql and its kin read `-p` alone as "prompt for it": a separate word after it is the database. */
const PROMPTING_CLIENT = /\b(?:mysql\w*|mariadb\w*)\b/i;

export function cliPasswordDetectors(): Detector[] {
  return [
    new RegexDetector(
      'password-flag',
      'secret',
      'secrets',
      ['-password', '-passwd', '-pass', '-pwd'],
      new RegExp(String.raw`(?:^|[\s"'(])--?(?:[\w-]{0,20}-)?(?:password|passwd|pass|pwd)(?:=|[ \t]+)${ARG}`, 'gi'),
      (m) => {
        const a = argument(m, 1);
        return a && !a.value.startsWith('-') && isLiteralPassword(a.value, a.quoted) ? a.span : null;
      },
    ),
    new RegexDetector(
      'password-flag-after-user',
      'secret',
      'secrets',
      ['-u'],
      // The user first, then up to three other words, then `-p`: `psexec \\h -u admin -p P cmd`, `mysql -uroot -pP`
      // (not PowerShell's `-user … -password …`, which password-flag reads).
      new RegExp(String.raw`(?:^|\s)-u(?!ser)[ \t]*[^\s-][^\s]{0,63}[ \t]+(?:[^\s]{1,64}[ \t]+){0,3}?-p(?!ass|wd|ort)([ \t]+|)${ARG}`, 'g'),
      (m) => {
        const a = argument(m, 2);
        if (!a || a.value.startsWith('-')) return null;
        if (m[1] !== '' && PROMPTING_CLIENT.test(m.input.slice(Math.max(0, m.index - 80), m.index))) return null;
        return isLiteralPassword(a.value, a.quoted) ? a.span : null;
      },
    ),
    new RegexDetector(
      'sshpass-password',
      'secret',
      'secrets',
      ['sshpass'],
      new RegExp(String.raw`\bsshpass[ \t]+-p[ \t]*${ARG}`, 'g'),
      (m) => {
        const a = argument(m, 1);
        return a && isLiteralPassword(a.value, a.quoted) ? a.span : null;
      },
    ),
    new RegexDetector(
      'password-env-prefix',
      'secret',
      'secrets',
      ['password=', 'passwd=', 'pass=', 'pwd='],
      // `PGPASSWORD=p psql -h db`, `MYSQL_PWD=p mysqldump …`: the assignment is followed by the command it is for.
      new RegExp(String.raw`(?:^|[\s;&|(])[A-Z][A-Z0-9_]{0,40}(?:PASSWORD|PASSWD|PASS|PWD)=${ARG}(?=[ \t]+[\w./\\-])`, 'g'),
      (m) => {
        const a = argument(m, 1);
        return a && isLiteralPassword(a.value, a.quoted) ? a.span : null;
      },
    ),
  ];
}
