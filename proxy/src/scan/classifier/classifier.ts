// A text classifier an operator declares in the policy (`content.classifiers`): an ONNX model run by
// onnxruntime-node on the scan workers. Its score is a signal, not a decision: at or above the declared
// threshold it becomes a finding with the declared label, and `content.rules` decides what that label does.
import { readFileSync } from 'node:fs';
import { hashedNgramsInto, MAX_WINDOWS, normalizeForFeatures, WINDOW_CHARS, WINDOW_STRIDE, windows } from './features.js';
import { WordPiece } from './wordpiece.js';

/** The input name of a model built on Altrace's hashed n-gram features (`altrace content train`). */
export const HASHED_INPUT = 'altrace_hashed_ngrams_v1';

export interface WordPieceTokenizer {
  kind: 'wordpiece';
  /** Absolute path of the model's vocab.txt. */
  vocab: string;
  lowerCase: boolean;
  maxTokens: number;
}

export interface ClassifierSpec {
  id: string;
  /** Absolute path of the .onnx file. */
  model: string;
  /** Changes when the file does (size and time), so a worker reloads a replaced model. */
  version: string;
  /** The label a score at or above the threshold produces (a content rule acts on it). */
  label: string;
  threshold: number;
  /** How text becomes the model's input: null for a model on Altrace's own features. */
  tokenizer: WordPieceTokenizer | null;
  /** For a model that answers one score per class (logits), the class that means "positive". */
  positiveIndex: number;
}

/** What identifies a loaded model: a worker caches by it, the ready-check skips what is already loaded by it. */
export function classifierKey(spec: Pick<ClassifierSpec, 'id' | 'model' | 'version'>): string {
  return `${spec.id}\0${spec.model}\0${spec.version}`;
}

export class ClassifierError extends Error {
  constructor(
    readonly code: 'ALT_CLASSIFIER_UNAVAILABLE' | 'ALT_CLASSIFIER_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'ClassifierError';
  }
}

type Ort = typeof import('onnxruntime-node');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/** Windows per inference: bounds the input tensor (rows × features floats) whatever the text's length. */
const BATCH_ROWS = 32;
/** Token windows per text for a transformer, whose windows cost far more than a linear model's. */
const MAX_TOKEN_WINDOWS = 64;

async function runtime(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (err) {
    throw new ClassifierError('ALT_CLASSIFIER_UNAVAILABLE', `onnxruntime-node is not installed (an optional dependency; npm install onnxruntime-node): ${(err as Error).message}`);
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Each row's positive-class probability: one column is read as a probability (or a logit, outside 0..1), several as logits. */
function rowScores(data: Float32Array, rows: number, positiveIndex: number): number[] {
  const width = data.length / rows;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * width, (r + 1) * width);
    if (width === 1) {
      const x = row[0]!;
      out.push(x >= 0 && x <= 1 ? x : sigmoid(x));
      continue;
    }
    const max = Math.max(...row);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    out.push(Math.exp(row[positiveIndex]! - max) / sum);
  }
  return out;
}

export class Classifier {
  readonly spec: ClassifierSpec;
  readonly #ort: Ort;
  readonly #session: Session;
  readonly #dims: number;
  readonly #tokenizer: WordPiece | null;

  /** Loads the model once; an unusable model or tokenizer is refused here, with what was wrong. */
  static async load(spec: ClassifierSpec): Promise<Classifier> {
    const ort = await runtime();
    let session: Session;
    try {
      // One thread each: the scan pool already runs a worker per core.
      session = await ort.InferenceSession.create(spec.model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    } catch (err) {
      throw new ClassifierError('ALT_CLASSIFIER_INVALID', `classifier ${spec.id}: ${spec.model} is not a usable ONNX model: ${(err as Error).message}`);
    }
    const names = session.inputNames;
    let dims = 0;
    let tokenizer: WordPiece | null = null;
    if (names.includes(HASHED_INPUT)) {
      const meta = session.inputMetadata.find((m) => m.name === HASHED_INPUT);
      const width = meta?.isTensor ? meta.shape[1] : undefined;
      if (typeof width !== 'number' || width <= 0 || (width & (width - 1)) !== 0) {
        throw new ClassifierError('ALT_CLASSIFIER_INVALID', `classifier ${spec.id}: input ${HASHED_INPUT} must be [batch, 2^k], not [${meta?.isTensor ? meta.shape.join(', ') : '?'}]`);
      }
      dims = width;
    } else if (names.includes('input_ids')) {
      if (!spec.tokenizer) throw new ClassifierError('ALT_CLASSIFIER_INVALID', `classifier ${spec.id}: the model reads input_ids; declare its tokenizer (tokenizer.vocab)`);
      try {
        tokenizer = WordPiece.fromVocab(readFileSync(spec.tokenizer.vocab, 'utf8'), { lowerCase: spec.tokenizer.lowerCase, maxTokens: spec.tokenizer.maxTokens });
      } catch (err) {
        throw new ClassifierError('ALT_CLASSIFIER_INVALID', `classifier ${spec.id}: tokenizer vocabulary ${spec.tokenizer.vocab}: ${(err as Error).message}`);
      }
    } else {
      throw new ClassifierError('ALT_CLASSIFIER_INVALID', `classifier ${spec.id}: the model's inputs (${names.join(', ')}) are neither ${HASHED_INPUT} nor input_ids`);
    }
    return new Classifier(spec, ort, session, dims, tokenizer);
  }

  private constructor(spec: ClassifierSpec, ort: Ort, session: Session, dims: number, tokenizer: WordPiece | null) {
    this.spec = spec;
    this.#ort = ort;
    this.#session = session;
    this.#dims = dims;
    this.#tokenizer = tokenizer;
  }

  /** Each text's score: the highest of its windows, so an instruction buried in a long document counts in full. */
  async score(texts: readonly string[]): Promise<number[]> {
    return this.#tokenizer ? Promise.all(texts.map((t) => this.#scoreTokens(t))) : this.#scoreHashed(texts);
  }

  async #scoreHashed(texts: readonly string[]): Promise<number[]> {
    const out = texts.map(() => 0);
    const pending: { owner: number; text: string }[] = texts.flatMap((text, owner) => windows(normalizeForFeatures(text), WINDOW_CHARS, WINDOW_STRIDE, MAX_WINDOWS).map((w) => ({ owner, text: w })));
    for (let at = 0; at < pending.length; at += BATCH_ROWS) {
      const rows = pending.slice(at, at + BATCH_ROWS);
      const batch = new Float32Array(rows.length * this.#dims);
      rows.forEach((r, i) => hashedNgramsInto(r.text, batch.subarray(i * this.#dims, (i + 1) * this.#dims)));
      const scores = await this.#run({ [HASHED_INPUT]: new this.#ort.Tensor('float32', batch, [rows.length, this.#dims]) }, rows.length);
      scores.forEach((s, i) => (out[rows[i]!.owner] = Math.max(out[rows[i]!.owner]!, s)));
    }
    return out;
  }

  async #scoreTokens(text: string): Promise<number> {
    const e = this.#tokenizer!.encode(text, MAX_TOKEN_WINDOWS);
    const shape = [e.rows, e.width];
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const name of this.#session.inputNames) {
      if (name === 'input_ids') feeds[name] = new this.#ort.Tensor('int64', e.ids, shape);
      else if (name === 'attention_mask') feeds[name] = new this.#ort.Tensor('int64', e.mask, shape);
      else if (name === 'token_type_ids') feeds[name] = new this.#ort.Tensor('int64', new BigInt64Array(e.ids.length), shape);
      else throw new ClassifierError('ALT_CLASSIFIER_INVALID', `classifier ${this.spec.id}: the model asks for input ${name}, which a WordPiece tokenizer does not give`);
    }
    return Math.max(...(await this.#run(feeds, e.rows)));
  }

  async #run(feeds: Record<string, InstanceType<Ort['Tensor']>>, rows: number): Promise<number[]> {
    const result = await this.#session.run(feeds);
    const output = result[this.#session.outputNames[0]!]!;
    if (output.type !== 'float32') throw new ClassifierError('ALT_CLASSIFIER_INVALID', `classifier ${this.spec.id}: output ${this.#session.outputNames[0]} is ${output.type}, not float32`);
    return rowScores(output.data as Float32Array, rows, this.spec.positiveIndex);
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
