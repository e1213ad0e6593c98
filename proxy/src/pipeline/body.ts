import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { jsonDeeperThan, tooDeepMessage } from '../core/json-depth.js';

export interface ReadBody {
  bytes: Uint8Array;
  length: number;
  tooLarge: boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * Reads a request body up to `limit` bytes. Past the limit it stops keeping data and
 * resolves at once, so a 50 MB body costs nothing but the refusal.
 */
export function readBody(stream: Readable, limit: number, declaredLength: number | null): Promise<ReadBody> {
  if (declaredLength !== null && declaredLength > limit) {
    return Promise.resolve({ bytes: EMPTY, length: declaredLength, tooLarge: true });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        cleanup();
        resolve({ bytes: EMPTY, length, tooLarge: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length), length, tooLarge: false });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(Object.assign(new Error('client closed the request before its body was complete'), { code: 'ECONNRESET' }));
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** A parsed body, or why there is none: `tooDeep` refusals are told apart from malformed text. */
export interface ParsedJson {
  value: unknown;
  error: string | null;
  tooDeep: boolean;
}

/** Parses a JSON body nested at most `maxDepth` levels; the error message names what was wrong and where. */
export function parseJson(bytes: Uint8Array, maxDepth: number): ParsedJson {
  if (bytes.length === 0) return { value: undefined, error: 'the body is empty', tooDeep: false };
  if (!isUtf8(bytes)) return { value: undefined, error: 'the body is not valid UTF-8', tooDeep: false };
  // A leading byte-order mark is tolerated, as TextDecoder would.
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom).toString('utf8');
  // Before parsing: nothing nested past the bound is ever built, so nothing downstream walks it.
  if (jsonDeeperThan(text, maxDepth)) return { value: undefined, error: tooDeepMessage(maxDepth), tooDeep: true };
  try {
    return { value: JSON.parse(text), error: null, tooDeep: false };
  } catch (err) {
    return { value: undefined, error: `the body is not valid JSON: ${(err as Error).message}`, tooDeep: false };
  }
}
