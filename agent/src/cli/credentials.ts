import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { EncryptedCredentialFile, loadMasterKey } from '../credentials/encrypted-file.js';
import { STORABLE_UPSTREAM } from '../credentials/supply.js';
import { UsageError } from '../errors.js';

const HELP = `altrace credentials — the encrypted credential store (<state_dir>/credentials.enc)

Usage:
  altrace credentials set UPSTREAM      read the key from standard input (never from argv)
  altrace credentials set bedrock --aws reads "ACCESS_KEY_ID SECRET_ACCESS_KEY [SESSION_TOKEN]" from stdin
  altrace credentials list              upstream names only, never values
  altrace credentials remove UPSTREAM

UPSTREAM@TEAM (openai@payments) stores a team's own key: that team's agents are sent with it
instead of the shared one (in a credentials file the same name; in a secret mount openai.team.payments).

Options: --config FILE, --json. The store is AES-256-GCM encrypted with the master key
(ALTRACE_MASTER_KEY, or <state_dir>/master.key created on first use, mode 0600).
Environment keys (OPENAI_API_KEY, ...) take precedence over stored ones. A running agent
reads the store at start-up.
`;

export async function credentialsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, aws: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = loadConfig({ file: values.config });
  mkdirSync(config.state_dir, { recursive: true, mode: 0o700 });
  const key = loadMasterKey(config.credentials.master_key_file ?? join(config.state_dir, 'master.key'), process.env.ALTRACE_MASTER_KEY);
  const file = new EncryptedCredentialFile(join(config.state_dir, 'credentials.enc'), key);
  const [sub, upstream] = positionals;
  const stored = file.read();
  switch (sub) {
    case 'set': {
      if (!upstream || !STORABLE_UPSTREAM.test(upstream)) throw new UsageError('set needs an upstream name (openai, anthropic, gemini, azure, bedrock or a compatible name), or upstream@team for a team\'s own key');
      const input = readFileSync(0, 'utf8').trim();
      if (!input) throw new UsageError('no key on standard input');
      if (values.aws) {
        const [id, secret, token] = input.split(/\s+/);
        if (!id || !secret) throw new UsageError('--aws expects "ACCESS_KEY_ID SECRET_ACCESS_KEY [SESSION_TOKEN]" on stdin');
        stored[upstream] = { access_key_id: id, secret_access_key: secret, ...(token ? { session_token: token } : {}) };
      } else stored[upstream] = { api_key: input };
      file.write(stored);
      process.stdout.write(values.json ? JSON.stringify({ set: upstream }) + '\n' : `stored the credential for ${upstream} (encrypted)\n`);
      return 0;
    }
    case 'list': {
      const names = Object.keys(stored).sort();
      process.stdout.write(values.json ? JSON.stringify({ upstreams: names }) + '\n' : (names.join('\n') || '(none)') + '\n');
      return 0;
    }
    case 'remove': {
      if (!upstream || !(upstream in stored)) {
        process.stderr.write(`no stored credential for ${upstream ?? '(none given)'}\n`);
        return 1;
      }
      delete stored[upstream];
      file.write(stored);
      process.stdout.write(values.json ? JSON.stringify({ removed: upstream }) + '\n' : `removed ${upstream}\n`);
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (set, list, remove)');
  }
}
