import type { ActionLevel } from './document.js';

// Verbs that name what a tool does. The most dangerous verb in a name decides
// ("get_and_delete_user" is a delete), so a read-sounding prefix cannot hide a delete.
const DELETE = new Set(['delete', 'del', 'remove', 'rm', 'drop', 'destroy', 'purge', 'erase', 'wipe', 'truncate', 'revoke', 'terminate', 'unlink', 'deprovision']);
const EXECUTE = new Set(['run', 'exec', 'execute', 'eval', 'evaluate', 'shell', 'bash', 'sh', 'cmd', 'command', 'spawn', 'invoke', 'script', 'python', 'interpreter', 'terminal', 'sql', 'deploy']);
const WRITE = new Set([
  'create', 'add', 'insert', 'update', 'set', 'put', 'post', 'write', 'send', 'edit', 'modify', 'patch', 'upload', 'save', 'issue', 'refund',
  'transfer', 'pay', 'charge', 'approve', 'cancel', 'book', 'submit', 'publish', 'move', 'rename', 'assign', 'grant', 'enable', 'disable',
  'merge', 'commit', 'push', 'reply', 'email', 'notify', 'schedule', 'register', 'reset', 'change', 'apply', 'store', 'upsert', 'append', 'close', 'open',
]);
const READ = new Set([
  'get', 'list', 'lookup', 'look', 'search', 'find', 'fetch', 'read', 'query', 'describe', 'show', 'view', 'check', 'count', 'retrieve', 'browse',
  'inspect', 'load', 'download', 'summarize', 'explain', 'compare', 'calculate', 'estimate', 'validate', 'verify', 'status', 'info', 'weather',
]);
// Parameters that carry something to run make a tool an execute tool whatever its name.
const EXECUTE_PARAMS = new Set(['command', 'cmd', 'script', 'code', 'shell', 'sql', 'statement', 'program']);

/** Splits snake_case, kebab-case, dotted and camelCase names into lower-case words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function parameterNames(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const props = (schema as { properties?: unknown }).properties;
  return typeof props === 'object' && props !== null ? Object.keys(props) : [];
}

/**
 * The action level of a tool the contract does not classify: by the verbs in its name, then
 * by its parameters. A tool nothing classifies counts as `execute`: fail closed, so a read-only
 * contract never admits a tool it knows nothing about (declare it in `tools:` instead).
 */
export function classifyTool(name: string, schema?: unknown): ActionLevel {
  const words = nameWords(name);
  if (words.some((w) => DELETE.has(w))) return 'delete';
  if (words.some((w) => EXECUTE.has(w))) return 'execute';
  if (parameterNames(schema).some((p) => EXECUTE_PARAMS.has(p.toLowerCase()))) return 'execute';
  if (words.some((w) => WRITE.has(w))) return 'write';
  if (words.some((w) => READ.has(w))) return 'read';
  return 'execute';
}
