// Test helper: tiny Keras model specs (Keras 2 style configs + seeded weights) for the coverage test, one
// builder per layer class of src/convert/layer-classes.ts.
import { seededRandom } from '../../src/convert/compare.js';
import type { ModelSpec, SpecWeight } from './keras-writer.js';

type Json = Record<string, any>;

/** mulberry32 (the converter's own seeded PRNG), so every spec and input is the same on every run. */
export const seeded = seededRandom;

/** A layer of a spec: class, name, Keras 2 config, inputs (layer names; default: the previous layer), weights. */
export interface LayerDef {
  readonly cls: string;
  readonly name: string;
  readonly config?: Json;
  readonly in?: readonly (string | readonly [string, number])[];
  readonly kwargs?: Json;
  /** A TFOpLambda-style first operand that is a constant (`1 - x`). */
  readonly constantFirst?: unknown;
  readonly weights?: readonly SpecWeight[];
  /** Nested model: its layers (a Sequential). */
  readonly layers?: readonly LayerDef[];
  readonly inputShape?: readonly number[];
}

/** The input each spec is run on: a shape (without batch) and how values are drawn. */
export interface InputDef {
  readonly name: string;
  readonly shape: readonly number[];
  /** Integer inputs (token ids) in [0, ints). */
  readonly ints?: number;
  readonly range?: readonly [number, number];
}

export interface Built {
  readonly spec: ModelSpec;
  readonly inputs: readonly InputDef[];
}

export class SpecBuilder {
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = seeded(seed);
  }

  /** A weight with values in [lo, hi). */
  w(name: string, shape: readonly number[], lo = -0.5, hi = 0.5, extra: Partial<SpecWeight> = {}): SpecWeight {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: count }, () => lo + (hi - lo) * this.random());
    return { name, shape, values, ...extra };
  }

  /** Dense weights. */
  dense(inputs: number, units: number, bias = true): SpecWeight[] {
    return bias ? [this.w('kernel', [inputs, units]), this.w('bias', [units])] : [this.w('kernel', [inputs, units])];
  }

  /** BatchNormalization weights (positive variance). */
  bn(channels: number): SpecWeight[] {
    return [
      this.w('gamma', [channels], 0.5, 1.5),
      this.w('beta', [channels]),
      this.w('moving_mean', [channels]),
      this.w('moving_variance', [channels], 0.2, 2),
    ];
  }

  /** Input values for the inputs of a spec (batch 2). */
  values(input: InputDef): Float32Array {
    const count = 2 * input.shape.reduce((a, b) => a * b, 1);
    if (input.ints) return Float32Array.from({ length: count }, () => Math.floor(this.random() * input.ints!));
    const [lo, hi] = input.range ?? [-1, 1];
    return Float32Array.from({ length: count }, () => lo + (hi - lo) * this.random());
  }
}

const base = (name: string, config: Json = {}) => ({ name, trainable: true, dtype: 'float32', ...config });

const isModelDef = (layer: LayerDef) => layer.cls === 'Sequential' || layer.cls === 'Model';

/** A Keras 2 Functional (`Model`) spec; layers without `in` take the previous layer (or the first input). */
export function functional(
  inputs: readonly InputDef[],
  layers: readonly LayerDef[],
  outputs?: readonly string[],
): Built {
  const weights: Record<string, SpecWeight[]> = {};
  const models = new Set(layers.filter(isModelDef).map((layer) => layer.name));
  const ref = (source: string | readonly [string, number]) => {
    const [name, node] = typeof source === 'string' ? [source, 0] : source;
    return [name, node + (models.has(name) ? 1 : 0), 0];
  };
  let previous = inputs[0].name;
  const entries: Json[] = inputs.map((input) => ({
    class_name: 'InputLayer',
    name: input.name,
    inbound_nodes: [],
    config: { batch_input_shape: [null, ...input.shape], dtype: 'float32', sparse: false, name: input.name },
  }));
  for (const layer of layers) {
    const sources = layer.in ?? [previous];
    const refs: unknown[][] = sources.map((source) => [...ref(source), {}]);
    if (layer.kwargs) refs[0][3] = layer.kwargs;
    if (layer.constantFirst !== undefined) {
      refs.splice(0, refs.length, ['_CONSTANT_VALUE', -1, layer.constantFirst, layer.kwargs ?? {}]);
    }
    const entry = modelEntry(layer, weights, []);
    entries.push({ ...entry, name: layer.name, inbound_nodes: [refs] });
    previous = layer.name;
  }
  const outs = (outputs ?? [previous]).map((name) => ref(name));
  const inputLayers = inputs.map((input) => [input.name, 0, 0]);
  const modelConfig = { name: 'model', layers: entries, input_layers: inputLayers, output_layers: outs };
  const config = { class_name: 'Model', config: modelConfig };
  return { spec: { config, weights }, inputs };
}

/** A Keras 2 Sequential spec whose first layer carries the input shape (as Keras 2 writes a built Sequential). */
export function sequential(input: InputDef, layers: readonly LayerDef[]): Built {
  const weights: Record<string, SpecWeight[]> = {};
  const entries = layers.map((layer, index) => {
    const entry = modelEntry(layer, weights, []);
    if (index === 0) entry.config = { batch_input_shape: [null, ...input.shape], ...entry.config };
    return entry;
  });
  const config = { class_name: 'Sequential', config: { name: 'sequential', layers: entries } };
  return { spec: { config, weights }, inputs: [input] };
}

function modelEntry(layer: LayerDef, weights: Record<string, SpecWeight[]>, prefix: readonly string[]): Json {
  const path = [...prefix, layer.name];
  if (layer.cls === 'Sequential') {
    const inner = (layer.layers ?? []).map((child, index) => {
      const entry = modelEntry(child, weights, path);
      if (index === 0 && layer.inputShape) {
        entry.config = { batch_input_shape: [null, ...layer.inputShape], ...entry.config };
      }
      return entry;
    });
    return { class_name: 'Sequential', config: { name: layer.name, layers: inner } };
  }
  if (layer.weights) weights[path.join('/')] = [...layer.weights];
  return { class_name: layer.cls, config: base(layer.name, layer.config) };
}
