import { pino, type Logger, type LoggerOptions } from 'pino';
import { LogSink } from './log-sink.js';

export type { Logger };

/**
 * Structured logs. Redaction is a second line of defence: no call site logs prompt or
 * response text or any key, and these paths are removed even if one tried.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { svc: 'altrace' },
    redact: { paths: ['headers.authorization', 'headers["x-api-key"]', 'headers["api-key"]', 'headers["x-goog-api-key"]', 'key', 'secret'], remove: true },
  };
  // Asynchronous stdout: lines written while a write is in flight go out together, so a
  // decision line per request does not cost a syscall per request under load.
  return pino(options, destination ?? new LogSink(1));
}
