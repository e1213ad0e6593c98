// Writes ONNX model files (proto/onnx/model.proto, ONNX's own field numbers): the linear classifier
// `altrace content train` builds, and any small graph a test needs. onnxruntime reads what this writes.
import { loadProto } from '../audit/records.js';

const ModelType = loadProto('onnx/model.proto').lookupType('onnx.ModelProto');

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface OnnxValue {
  name: string;
  elemType: typeof ONNX_FLOAT | typeof ONNX_INT64;
  /** A number is a fixed dimension, a string a symbolic one (the batch). */
  shape: (number | string)[];
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer-list attributes (axes, perm), and integer ones (keepdims). */
  ints?: Record<string, number[]>;
  int?: Record<string, number>;
}

export interface OnnxGraph {
  name: string;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  initializers: OnnxTensor[];
  nodes: OnnxNode[];
  /** Operator set of the default domain the nodes are written for. */
  opset?: number;
  metadata?: Record<string, string>;
}

const INTS = 7;
const INT = 2;

function valueInfo(v: OnnxValue) {
  return {
    name: v.name,
    type: { tensor_type: { elem_type: v.elemType, shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

export function encodeOnnx(g: OnnxGraph): Uint8Array {
  const model = {
    ir_version: 8,
    producer_name: 'altrace',
    producer_version: '1',
    opset_import: [{ domain: '', version: g.opset ?? 13 }],
    metadata_props: Object.entries(g.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: g.name,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: g.initializers.map((t) => ({
        name: t.name,
        dims: t.dims,
        data_type: ONNX_FLOAT,
        raw_data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      })),
      node: g.nodes.map((n, i) => ({
        name: `${n.op.toLowerCase()}_${i}`,
        op_type: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: [
          ...Object.entries(n.ints ?? {}).map(([name, ints]) => ({ name, ints, type: INTS })),
          ...Object.entries(n.int ?? {}).map(([name, i]) => ({ name, i, type: INT })),
        ],
      })),
    },
  };
  return ModelType.encode(ModelType.fromObject(model)).finish();
}
