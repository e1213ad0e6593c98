// Trains the small classifier Altrace can build itself: logistic regression over hashed n-grams,
// written as an ONNX file the scan workers load like any operator-provided model. It is a baseline a
// team can fit to its own labelled traffic; a production deployment can plug in a larger model instead.
import { HASHED_INPUT, HASHED_NGRAMS, hashedNgrams, WINDOW_CHARS, WINDOW_STRIDE, windows } from '../../../proxy/src/index.js';
import { encodeOnnx, ONNX_FLOAT } from './onnx-writer.js';

export interface TrainingText {
  text: string;
  positive: boolean;
}

export interface TrainOptions {
  /** Feature width, a power of two. */
  dims: number;
  epochs: number;
  /** L2 penalty per step. */
  l2: number;
  learningRate: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { dims: 1 << 14, epochs: 12, l2: 1e-6, learningRate: 0.5, seed: 1 };

export interface LinearModel {
  dims: number;
  weights: Float32Array;
  bias: number;
}

// The scanner scores windows (classifier.ts): negatives are taught window by window too, so a long
// benign document's windows do not look new to the model.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Logistic regression with AdaGrad steps, classes weighted to balance; deterministic for a seed. */
export function trainLinear(texts: readonly TrainingText[], options: TrainOptions = DEFAULT_TRAIN_OPTIONS): LinearModel {
  const { dims } = options;
  if (dims <= 0 || (dims & (dims - 1)) !== 0) throw new Error(`dims must be a power of two, not ${dims}`);
  const examples: { x: Float32Array; y: number }[] = [];
  for (const t of texts) {
    examples.push({ x: hashedNgrams(t.text, { dims }), y: t.positive ? 1 : 0 });
    if (!t.positive && t.text.length > WINDOW_CHARS) for (const w of windows(t.text, WINDOW_CHARS, WINDOW_STRIDE, 32)) examples.push({ x: hashedNgrams(w, { dims }), y: 0 });
  }
  const positives = examples.filter((e) => e.y === 1).length;
  const negatives = examples.length - positives;
  if (positives === 0 || negatives === 0) throw new Error(`training needs positive and negative texts (have ${positives} and ${negatives})`);
  const weightOf = [examples.length / (2 * negatives), examples.length / (2 * positives)];
  const w = new Float32Array(dims);
  const g2 = new Float32Array(dims).fill(1e-8);
  let bias = 0;
  let b2 = 1e-8;
  const random = mulberry32(options.seed);
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const k of order) {
      const { x, y } = examples[k]!;
      let z = bias;
      for (let d = 0; d < dims; d++) if (x[d] !== 0) z += w[d]! * x[d]!;
      const err = (1 / (1 + Math.exp(-z)) - y) * weightOf[y]!;
      for (let d = 0; d < dims; d++) {
        const xd = x[d]!;
        if (xd === 0) continue;
        const g = err * xd + options.l2 * w[d]!;
        g2[d]! += g * g;
        w[d]! -= (options.learningRate * g) / Math.sqrt(g2[d]!);
      }
      b2 += err * err;
      bias -= (options.learningRate * err) / Math.sqrt(b2);
    }
  }
  return { dims, weights: w, bias };
}

/** The model as ONNX: score = sigmoid(features · W + b), one row per text window. */
export function linearModelToOnnx(model: LinearModel, description: string): Uint8Array {
  return encodeOnnx({
    name: 'altrace-linear-classifier',
    inputs: [{ name: HASHED_INPUT, elemType: ONNX_FLOAT, shape: ['batch', model.dims] }],
    outputs: [{ name: 'score', elemType: ONNX_FLOAT, shape: ['batch', 1] }],
    initializers: [
      { name: 'W', dims: [model.dims, 1], data: model.weights },
      { name: 'b', dims: [1], data: Float32Array.of(model.bias) },
    ],
    nodes: [
      { op: 'MatMul', inputs: [HASHED_INPUT, 'W'], outputs: ['z0'] },
      { op: 'Add', inputs: ['z0', 'b'], outputs: ['z'] },
      { op: 'Sigmoid', inputs: ['z'], outputs: ['score'] },
    ],
    metadata: { 'altrace.featurizer': HASHED_NGRAMS, 'altrace.description': description },
  });
}
