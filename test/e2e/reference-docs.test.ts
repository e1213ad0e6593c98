// docs/reference.md's tables are rendered from the code; this fails when either moved without the other.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../agent/src/paths.js';
import { renderReference } from '../../agent/src/docs/render.js';
import { configSchema, schemaNodeAt } from '../../agent/src/docs/tables.js';
import { ENV_OVERRIDES } from '../../agent/src/config/config.js';
import { reasonCodes } from '../../proxy/src/index.js';
import { agentErrorCodes } from '../../agent/src/error-codes.js';

const file = join(packageRoot, 'docs/reference.md');

test('docs/reference.md: the chain as served, the reason table, the agent error codes, the env overrides and the CLI help are current', async (t) => {
  const doc = readFileSync(file, 'utf8');
  const rendered = await renderReference(doc);
  const drifted = rendered
    .split('\n')
    .map((line, i) => ({ line, i }))
    .filter(({ line, i }) => doc.split('\n')[i] !== line)
    .slice(0, 5)
    .map(({ line, i }) => `line ${i + 1}: expected ${line}`);
  t.is(rendered, doc, `docs/reference.md has drifted from the code; run \`npm run docs\`.\n${drifted.join('\n')}`);
});

test('every env override names a setting the schema describes, and every reason code is in the reference', (t) => {
  const schema = configSchema();
  const undescribed = ENV_OVERRIDES.filter((o) => !schemaNodeAt(schema, o.path)?.description).map((o) => `${o.env} → ${o.path}`);
  t.deepEqual(undescribed, [], 'give these settings a description in policies/config.schema.json');
  const doc = readFileSync(file, 'utf8');
  t.deepEqual(reasonCodes.filter((c) => !doc.includes(`| \`${c}\` |`)), []);
});

test('every agent error code is in the reference, in the error-code section', (t) => {
  const doc = readFileSync(file, 'utf8');
  const section = doc.slice(doc.indexOf('<!-- generated:errors -->'), doc.indexOf('<!-- /generated:errors -->'));
  t.true(section.length > 0, 'docs/reference.md has a generated:errors section');
  t.deepEqual(agentErrorCodes.filter((c) => !section.includes(`| \`${c}\` |`)), []);
});
