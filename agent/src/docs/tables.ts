// The reference tables of docs/reference.md, rendered from the code they describe: the
// composed chain, the reason table, the agent's error codes, the config schema with its env
// overrides, the CLI's help.
// `npm run docs` writes them; test/e2e/reference-docs.test.ts fails when the file has drifted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reasonCodes, reasons, type StageDescription } from '../../../proxy/src/index.js';
import { ENV_OVERRIDES } from '../config/config.js';
import { agentErrorCodes, agentErrors } from '../error-codes.js';
import { packageRoot } from '../paths.js';

/** A cell holds one line of text; a pipe would end it early. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const code = (s: string) => '`' + s + '`';

export function chainTable(stages: readonly StageDescription[]): string {
  const rows = stages.map((s) => `| ${s.order} | ${code(s.id)} | ${s.band}${s.side === 'response' ? ' (response)' : ''} | ${s.place} | ${cell(s.summary)} |`);
  return ['| # | stage | band | runs in | decides |', '|---|---|---|---|---|', ...rows].join('\n');
}

const RETRY_SIGNAL = {
  never: 'never (`x-should-retry: false`)',
  later: 'later (`retry-after`)',
  transient: 'transient (SDK backoff)',
  not_a_refusal: '—',
} as const;

export function reasonTable(): string {
  const rows = reasonCodes.map((c) => {
    const r = reasons[c];
    const status = r.retry === 'not_a_refusal' ? `${r.status} (not a refusal)` : String(r.status);
    return `| ${code(c)} | ${status} | ${RETRY_SIGNAL[r.retry]} | ${cell(r.hint)} |`;
  });
  return ['| code | status | retry | hint (what to do) |', '|---|---|---|---|', ...rows].join('\n');
}

export function errorTable(): string {
  const rows = agentErrorCodes.map((c) => {
    const e = agentErrors[c];
    return `| ${code(c)} | ${e.status ?? '—'} | ${cell(e.meaning)} | ${cell(e.action)} |`;
  });
  return ['| code | status | meaning | what to do |', '|---|---|---|---|', ...rows].join('\n');
}

interface SchemaNode {
  $ref?: string;
  default?: unknown;
  description?: string;
  properties?: Record<string, SchemaNode>;
  $defs?: Record<string, SchemaNode>;
  enum?: unknown[];
}

/** The schema node at a dotted config path, following local $refs. */
export function schemaNodeAt(schema: SchemaNode, path: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const part of path.split('.')) {
    node = node?.properties?.[part];
    if (node?.$ref) node = { ...schema.$defs?.[node.$ref.replace('#/$defs/', '')], ...node };
  }
  return node;
}

export function configSchema(): SchemaNode {
  return JSON.parse(readFileSync(join(packageRoot, 'policies/config.schema.json'), 'utf8')) as SchemaNode;
}

export function envTable(schema: SchemaNode = configSchema()): string {
  const rows = ENV_OVERRIDES.map((o) => {
    const node = schemaNodeAt(schema, o.path);
    if (!node) throw new Error(`ENV_OVERRIDES names ${o.path}, which the config schema does not have`);
    const def = node.default === undefined || node.default === null ? '—' : code(JSON.stringify(node.default));
    const values = node.enum ? ` (${node.enum.map((v) => code(String(v))).join(', ')})` : '';
    return `| ${code(o.env)} | ${code(o.path)} | ${def} | ${cell((node.description ?? '') + values)} |`;
  });
  return ['| variable | setting | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function cliHelp(help: string): string {
  return ['```text', help.trimEnd(), '```'].join('\n');
}

/** Replaces the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. */
export function withGenerated(doc: string, name: string, body: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start < 0 || end < start) throw new Error(`docs/reference.md has no ${open} … ${close} section`);
  return doc.slice(0, start + open.length) + '\n' + body + '\n' + doc.slice(end);
}
