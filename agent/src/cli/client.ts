import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch, type Response as UndiciResponse } from 'undici';
import { resolve } from 'node:path';
import { AltraceError, UsageError, notOneOf } from '../errors.js';
import { isAgentErrorCode } from '../error-codes.js';

/** The options every control-API command takes. */
export const CONTROL_OPTIONS = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  // An HTTPS control API (control.tls): the CA it is verified by, and the operator's client certificate.
  cacert: { type: 'string' },
  cert: { type: 'string' },
  'cert-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Prints JSON with --json, the human line otherwise. */
export function printer(json: boolean | undefined): (data: unknown, text: string) => void {
  return (data, text) => void process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : text + '\n');
}

/** A `--flag` value that must be a ratio (precision, recall, a threshold); null when absent. */
export function ratio(v: string | undefined, flag: string): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--${flag} must be a number between 0 and 1`);
  return n;
}

/** An enumerated option's value, checked before any call: the refusal lists the allowed values. */
export function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(notOneOf(flag, value, allowed));
  return value as T;
}

export interface ControlTarget {
  url: string;
  /** Null when a client certificate is who the caller is. */
  token: string | null;
  /** TLS client options: the CA the server is verified by, the client certificate and key (PEM). */
  tls?: { ca?: string; cert?: string; key?: string };
}

function readOption(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Where the CLI finds the control API and its operator token (or certificate): flags, env, then the local state dir. */
export function controlTarget(values: { url?: string | undefined; token?: string | undefined; cacert?: string | undefined; cert?: string | undefined; 'cert-key'?: string | undefined }): ControlTarget {
  const env = process.env;
  const url = values.url ?? env.ALTRACE_URL ?? `http://${env.ALTRACE_HOST ?? '127.0.0.1'}:${env.ALTRACE_CONTROL_PORT ?? '7070'}`;
  const cacert = values.cacert ?? env.ALTRACE_CA_FILE;
  const cert = values.cert ?? env.ALTRACE_CERT_FILE;
  const key = values['cert-key'] ?? env.ALTRACE_CERT_KEY_FILE;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--cert and --cert-key go together (ALTRACE_CERT_FILE, ALTRACE_CERT_KEY_FILE)');
  const tls = cacert || cert ? { ...(cacert ? { ca: readOption(cacert, '--cacert') } : {}), ...(cert ? { cert: readOption(cert, '--cert'), key: readOption(key!, '--cert-key') } : {}) } : undefined;
  // An empty value counts as absent, so an exported but blank variable does not hide the saved token.
  const token = values.token || env.ALTRACE_TOKEN || env.ALTRACE_ADMIN_TOKEN || savedToken(tokenFile(env));
  if (!token && !cert) throw new UsageError(noTokenMessage(env));
  return { url: url.replace(/\/+$/, ''), token: token || null, ...(tls ? { tls } : {}) };
}

/** The bootstrap admin token the agent saved for the local CLI. */
function tokenFile(env: NodeJS.ProcessEnv): string {
  return resolve(env.ALTRACE_STATE_DIR ?? '.altrace', 'admin.token');
}

function savedToken(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function noTokenMessage(env: NodeJS.ProcessEnv): string {
  const file = tokenFile(env);
  const unset = (v: string | undefined) => (v === undefined ? 'not set' : 'empty');
  return [
    'no operator token. Looked, in order, at:',
    '  1. --token TOKEN        not given',
    `  2. ALTRACE_TOKEN        ${unset(env.ALTRACE_TOKEN)}`,
    `  3. ALTRACE_ADMIN_TOKEN  ${unset(env.ALTRACE_ADMIN_TOKEN)}`,
    `  4. ${file}  ${fileState(file)} (<state_dir>/admin.token, state_dir ${env.ALTRACE_STATE_DIR === undefined ? '= ./.altrace: ALTRACE_STATE_DIR not set' : 'from ALTRACE_STATE_DIR'})`,
    'Pass --token TOKEN or set ALTRACE_TOKEN to an operator token. The agent prints its bootstrap admin token on',
    'its first start and saves it to <state_dir>/admin.token: run the CLI from the directory where `altrace start`',
    'ran, or set ALTRACE_STATE_DIR to that state directory. An admin issues more with `altrace tokens create`.',
  ].join('\n');
}

function fileState(file: string): string {
  try {
    readFileSync(file);
    return 'empty';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `unreadable (${(err as NodeJS.ErrnoException).code})`;
  }
}

/** A request to the control API (path under /api/v1), over TLS with the target's certificate where it has one. */
export async function controlFetch(target: ControlTarget, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response | UndiciResponse> {
  const headers = { ...(target.token ? { authorization: `Bearer ${target.token}` } : {}), ...init.headers };
  if (!target.tls) return fetch(`${target.url}/api/v1${path}`, { ...init, headers });
  const dispatcher = new Agent({ connect: target.tls });
  const res = await undiciFetch(`${target.url}/api/v1${path}`, { ...init, headers, dispatcher });
  // A graceful close: it waits for the body the caller reads, then lets the process exit.
  void dispatcher.close().catch(() => {});
  return res;
}

export async function call(target: ControlTarget, method: string, path: string, body?: unknown): Promise<any> {
  let res: Response | UndiciResponse;
  try {
    const init = {
      method,
      headers: { ...(target.token ? { authorization: `Bearer ${target.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    };
    res = await controlFetch(target, path, init);
  } catch (err) {
    throw new AltraceError('ALT_CONTROL_UNREACHABLE', `cannot reach the control API at ${target.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = (data as { error?: { code?: unknown; message?: string } }).error;
    // The server's code is data from the network: one this CLI does not list (a newer agent) stays in the message.
    const code = isAgentErrorCode(e?.code) ? e.code : null;
    const foreign = code === null && typeof e?.code === 'string' ? ` (${e.code})` : '';
    const message = `${res.status}: ${e?.message ?? res.statusText}${foreign}`;
    // 400 is the server refusing a value the operator typed; 403, 404 and 409 refuse a valid request.
    if (res.status === 400) throw new UsageError(message, code ?? 'ALT_INVALID_FIELD');
    throw new AltraceError(code ?? 'ALT_CONTROL_ERROR', message);
  }
  return data;
}
