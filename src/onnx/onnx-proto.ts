// The ONNX protobuf schema, as a protobufjs JSON descriptor (onnx-schema.json), so nothing parses a .proto at run
// time. Source: https://github.com/onnx/onnx/blob/f7546912001bc31e92a238b17068a21b373d882e/onnx/onnx.proto
// (onnx/onnx main after 1.22, VERSION_NUMBER 1.23.0, IR_VERSION 14), turned into JSON with protobufjs 8.8.1:
//   protobuf.parse(readFileSync('onnx.proto', 'utf8'), { keepCase: true }).root.toJSON({ keepComments: false })
// keepCase keeps the proto's snake_case field names (ir_version, op_type, raw_data), which the objects below use.
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';
import schema from './onnx-schema.json' with { type: 'json' };

// protobufjs is CommonJS; its light build reads JSON descriptors (no .proto parser).
const protobuf = createRequire(import.meta.url)('protobufjs/light.js') as typeof Protobuf;
const root = protobuf.Root.fromJSON(schema as Protobuf.INamespace);

/** The ModelProto message type (encode, decode, verify). */
export const ModelProtoType = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values used here. */
export const DATA_TYPE = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** One attribute, as protobufjs takes it (field names of onnx.proto). */
export interface AttributeMessage {
  readonly name: string;
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
}

/** A NodeProto. */
export interface NodeMessage {
  readonly name: string;
  readonly op_type: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly AttributeMessage[];
}

/** A TensorProto holding little-endian raw data. */
export interface TensorMessage {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data_type: number;
  readonly raw_data: Uint8Array;
}

/** One dimension of a graph input or output: a size, or a name for a size known only at run time. */
export type DimMessage = { readonly dim_value: number } | { readonly dim_param: string };

/** A ValueInfoProto of a float32 tensor. */
export interface ValueInfoMessage {
  readonly name: string;
  readonly type: {
    readonly tensor_type: { readonly elem_type: number; readonly shape: { dim: readonly DimMessage[] } };
  };
}

/** A ModelProto with one graph. */
export interface ModelMessage {
  readonly ir_version: number;
  readonly opset_import: readonly { domain: string; version: number }[];
  readonly producer_name: string;
  readonly producer_version: string;
  readonly graph: {
    readonly name: string;
    readonly node: readonly NodeMessage[];
    readonly initializer: readonly TensorMessage[];
    readonly input: readonly ValueInfoMessage[];
    readonly output: readonly ValueInfoMessage[];
  };
  readonly metadata_props?: readonly { key: string; value: string }[];
}

/** Serialises a model to ONNX bytes (throws if a field does not fit the schema). */
export function encodeModel(model: ModelMessage): Uint8Array {
  const problem = ModelProtoType.verify(model);
  if (problem) throw new Error(`onnx: the model does not fit onnx.proto (${problem})`);
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}

/** Parses ONNX bytes back into plain objects (int64 as numbers, bytes as Buffers). */
export function decodeModel(bytes: Uint8Array): Record<string, any> {
  return ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: Number, bytes: Buffer, defaults: false });
}
