import * as tf from '@tensorflow/tfjs';
import { elementCount, readFloat32Into, readTensor } from './read-tensor.js';
import type { WeightBinding } from './types.js';

/** mulberry32: a tiny seeded PRNG, so the test input (and so maxAbsDiff) is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One seeded input per model input: batch 1, unknown dims 32, floats in [0, 1), ints in [0, 10). */
export function seededInputs(model: tf.LayersModel, seed = 42): tf.Tensor[] {
  const random = seededRandom(seed);
  return model.inputs.map((input) => {
    const shape = input.shape.map((size, axis) => size ?? (axis === 0 ? 1 : 32));
    const count = shape.reduce((product, size) => product * size, 1);
    const isInt = input.dtype === 'int32';
    const values = isInt
      ? Int32Array.from({ length: count }, () => Math.floor(random() * 10))
      : Float32Array.from({ length: count }, random);
    return tf.tensor(values, shape, isInt ? 'int32' : 'float32');
  });
}

/** Sets one model weight by its TF.js name; the old value is freed, so memory stays at one model plus one tensor. */
function setWeight(model: tf.LayersModel, byName: Map<string, tf.LayerVariable>, name: string, value: tf.Tensor): void {
  const variable = byName.get(name);
  if (!variable) throw new Error(`convert: no weight ${name} in the built model`);
  variable.write(value);
  value.dispose();
}

const weightsByName = (model: tf.LayersModel) => new Map(model.weights.map((weight) => [weight.originalName, weight]));

/** Loads the bound float32 weights straight from HDF5 into a built model (the reference for maxAbsDiff). */
export function loadBoundWeights(model: tf.LayersModel, bindings: readonly WeightBinding[], label: string): void {
  const byName = weightsByName(model);
  // wasm copies a new tensor into its heap, so one scratch read by slices serves every float tensor (no whole-tensor
  // temporaries); the cpu backend keeps the array it is given, so it gets a fresh one each
  const floats = bindings.filter((binding) => binding.dataset.metadata.type === 1);
  const scratch =
    tf.getBackend() === 'wasm'
      ? new Float32Array(floats.reduce((max, binding) => Math.max(max, elementCount(binding.dataset)), 0))
      : undefined;
  for (const binding of bindings) {
    if (scratch && binding.dataset.metadata.type === 1) {
      const values = readFloat32Into(binding.dataset, scratch, label);
      setWeight(model, byName, binding.name, tf.tensor(values, [...binding.shape], 'float32'));
      continue;
    }
    const tensor = readTensor(binding.dataset, label);
    setWeight(model, byName, binding.name, tf.tensor(tensor.values, [...binding.shape], tensor.dtype));
  }
}

/** Loads written TF.js weights (shards + manifest, quantised or not) into a built model, one tensor at a time. */
export function loadManifestWeights(
  model: tf.LayersModel,
  specs: readonly tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
): void {
  const byName = weightsByName(model);
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((product, size) => product * size, 1);
    const bytesPer = spec.quantization ? (spec.quantization.dtype === 'uint8' ? 1 : 2) : 4;
    const [tensor] = Object.values(tf.io.decodeWeights(data.slice(offset, offset + count * bytesPer), [spec]));
    offset += count * bytesPer;
    setWeight(model, byName, spec.name, tensor);
  }
}

/** Largest absolute difference between two models' outputs on the same inputs. */
export function maxOutputDiff(a: tf.LayersModel, b: tf.LayersModel, inputs: tf.Tensor[]): number {
  return tf.tidy(() => {
    const outA = [a.predict(inputs)].flat() as tf.Tensor[];
    const outB = [b.predict(inputs)].flat() as tf.Tensor[];
    let max = 0;
    outA.forEach((tensor, index) => {
      max = Math.max(max, tf.max(tf.abs(tf.sub(tensor, outB[index]))).dataSync()[0]);
    });
    return max;
  });
}
