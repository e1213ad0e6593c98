import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AltraceError, UsageError } from '../errors.js';

/** The options every control-API command takes. */
export const CONTROL_OPTIONS = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Prints JSON with --json, the human line otherwise. */
export function printer(json: boolean | undefined): (data: unknown, text: string) => void {
  return (data, text) => void process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : text + '\n');
}

export interface ControlTarget {
  url: string;
  token: string;
}

/** Where the CLI finds the control API and its operator token: flags, env, then the local state dir. */
export function controlTarget(values: { url?: string | undefined; token?: string | undefined }): ControlTarget {
  const env = process.env;
  const url = values.url ?? env.ALTRACE_URL ?? `http://${env.ALTRACE_HOST ?? '127.0.0.1'}:${env.ALTRACE_CONTROL_PORT ?? '7070'}`;
  let token = values.token ?? env.ALTRACE_TOKEN ?? env.ALTRACE_ADMIN_TOKEN;
  const saved = join(env.ALTRACE_STATE_DIR ?? '.altrace', 'admin.token');
  if (!token && existsSync(saved)) token = readFileSync(saved, 'utf8').trim();
  if (!token) throw new UsageError('no operator token: pass --token, or set ALTRACE_TOKEN');
  return { url: url.replace(/\/+$/, ''), token };
}

export async function call(target: ControlTarget, method: string, path: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(`${target.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new AltraceError('ALT_CONTROL_UNREACHABLE', `cannot reach the control API at ${target.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string } }).error;
    throw new AltraceError(e?.code ?? 'ALT_CONTROL_ERROR', `${res.status}: ${e?.message ?? res.statusText}`);
  }
  return data;
}
