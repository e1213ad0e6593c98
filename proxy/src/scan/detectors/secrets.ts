import { RegexDetector } from './regex-detector.js';
import type { Detector } from './types.js';
import { shannonEntropy } from './validators.js';

const PLACEHOLDER = /^(?:\$\{?\w+\}?|<[^>]*>|\{\{.*\}\}|%s|%\(\w+\)s|\*+|x+|pass(?:word)?|changeme|secret|\.\.\.|example)$/i;

/**
 * Secrets the gitleaks set misses or matches only in an older shape: database URLs with a
 * password, and current OpenAI and Anthropic key formats of any length.
 */
export function extraSecretDetectors(): Detector[] {
  return [
    // The header alone: on a stream, the key is cut before any of its material is delivered.
    new RegexDetector('private-key-header', 'secret', 'secrets', ['private key'], /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/g),
    new RegexDetector(
      'database-url-password',
      'secret',
      'secrets',
      ['://'],
      /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|clickhouse|cockroachdb)(?:\+\w+)?:\/\/[^\s:\/@'"]{0,64}:([^\s@\/'"]{1,128})@[^\s\/'"]{1,253}/gi,
      (m) => {
        const password = m[1]!;
        if (PLACEHOLDER.test(password)) return null;
        const start = m.index + m[0].indexOf(`:${password}@`) + 1;
        return { start, end: start + password.length };
      },
    ),
    new RegexDetector(
      'openai-api-key-current',
      'secret',
      'secrets',
      ['sk-proj-', 'sk-svcacct-', 'sk-admin-'],
      /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,200}/g,
      (m) => (shannonEntropy(m[0]) > 4 ? { start: m.index, end: m.index + m[0].length } : null),
    ),
    new RegexDetector(
      'anthropic-api-key-any-length',
      'secret',
      'secrets',
      ['sk-ant-'],
      /\bsk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,160}/g,
      (m) => (shannonEntropy(m[0]) > 4 ? { start: m.index, end: m.index + m[0].length } : null),
    ),
  ];
}
