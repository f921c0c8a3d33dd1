// The built graph as the plain objects onnx-proto.ts encodes: nodes, initializers (little-endian raw_data),
// float32 graph inputs/outputs with named batch (and unknown) dimensions.
import type { Attr, Graph, Value } from './graph.js';
import {
  ATTRIBUTE_TYPE,
  DATA_TYPE,
  type AttributeMessage,
  type DimMessage,
  type ModelMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from './onnx-proto.js';

const encoder = new TextEncoder();

function attribute(name: string, value: Attr): AttributeMessage {
  if ('int' in value) return { name, type: ATTRIBUTE_TYPE.INT, i: value.int };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: ATTRIBUTE_TYPE.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: value.floats };
  return { name, type: ATTRIBUTE_TYPE.STRING, s: encoder.encode(value.string) };
}

// ONNX raw_data is little-endian; so are x64 and arm64 (the Lambda architectures), so the bytes are the arrays'.
const isLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): TensorMessage {
  if (!isLittleEndian) throw new Error('onnx: writing raw_data needs a little-endian machine');
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const type = data instanceof Float32Array ? DATA_TYPE.FLOAT : DATA_TYPE.INT64;
  return { name, dims, data_type: type, raw_data: raw };
}

function valueInfo(value: Value): ValueInfoMessage {
  const dim = value.shape.map((size, axis): DimMessage =>
    size !== null ? { dim_value: size } : { dim_param: axis === 0 ? 'batch' : `${value.name}_dim${axis}` },
  );
  return { name: value.name, type: { tensor_type: { elem_type: DATA_TYPE.FLOAT, shape: { dim } } } };
}

/** What the model message needs besides the graph. */
export interface MessageOptions {
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly opset: number;
  readonly irVersion: number;
  readonly producerVersion: string;
  readonly graphName: string;
}

/** The ModelProto of a built (and folded) graph. */
export function toModelMessage(g: Graph, options: MessageOptions): ModelMessage {
  return {
    ir_version: options.irVersion,
    opset_import: [{ domain: '', version: options.opset }],
    producer_name: 'lambda-ml',
    producer_version: options.producerVersion,
    graph: {
      name: options.graphName || 'model',
      node: g.nodes.map((node) => ({
        name: node.name,
        op_type: node.op,
        input: node.inputs,
        output: node.outputs,
        attribute: Object.entries(node.attrs).map(([name, value]) => attribute(name, value)),
      })),
      initializer: [...g.constants.values()].map((constant) => tensor(constant.name, constant.dims, constant.data)),
      input: options.inputs.map(valueInfo),
      output: options.outputs.map(valueInfo),
    },
    metadata_props: [{ key: 'lambda-ml.input_layout', value: 'NHWC (Keras order; transposed inside the graph)' }],
  };
}
