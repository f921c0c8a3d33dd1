import type { Graph, Value } from './graph.js';

/** A weight of a layer, read as float32 from the TF.js model (quantised weights come back dequantised). */
export interface WeightValue {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** What an emitter sees of one call of a layer. */
export interface LayerCall {
  readonly className: string;
  /** The layer's path of names from the root model, joined with `/`. */
  readonly name: string;
  /** TF.js `layer.getConfig()` (camelCase keys). */
  readonly config: Readonly<Record<string, any>>;
  /** A weight by the last part of its name (`kernel`, `bias`, `gamma`, `depthwise_kernel`, ...). */
  readonly weight: (key: string) => WeightValue | undefined;
  /** The output shapes of this call (Keras layout, batch first). */
  readonly outputShapes: readonly (readonly (number | null)[])[];
}

/** What the pre-pass sees of a layer, to refuse what cannot be exported before anything is built. */
export interface LayerView {
  readonly className: string;
  readonly name: string;
  readonly config: Readonly<Record<string, any>>;
  /** The input shapes of every call of the layer. */
  readonly inputShapes: readonly (readonly (readonly (number | null)[])[])[];
}

/** Emits the ONNX nodes of one layer call and returns its outputs. */
export type Emit = (g: Graph, call: LayerCall, inputs: readonly Value[]) => Value[];

/** Why a layer (with these options) cannot be exported, or undefined. */
export type Check = (layer: LayerView) => string | undefined;

/** A layer class the ONNX export covers: how it becomes ONNX (the docs say the same), its emitter and its checks. */
export interface OnnxLayerClass {
  readonly className: string;
  readonly how: string;
  readonly emit: Emit;
  readonly check?: Check;
}

/** The one output of a single-output layer call, as a value in `layout`. */
export const output = (call: LayerCall, name: string, layout: Value['layout']): Value[] => [
  { name, shape: call.outputShapes[0], layout },
];

/** The weight `key` of a layer, or an error naming it (the TF.js model was built with it, so absence is a bug). */
export function needWeight(call: LayerCall, key: string): WeightValue {
  const found = call.weight(key);
  if (!found) throw new Error(`onnx: layer ${call.name} (${call.className}) has no weight ${key}`);
  return found;
}
