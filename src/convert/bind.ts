import * as tf from '@tensorflow/tfjs';
import { inputError } from '../lib/errors.js';
import type { TensorValue } from './rewrite-types.js';
import { memoryTensor } from './tensor-source.js';
import type { StoredWeight, WeightBinding } from './types.js';

type Layer = tf.layers.Layer;

/** Removes the `:0` variable suffix Keras 2 appends to weight names. */
export const normalizeWeightName = (name: string) => name.replace(/:\d+$/, '');

/**
 * Binds the stored weights of one layer to the names TF.js will look for (`LayerVariable.originalName`).
 * Names are matched first (as the Python converter does, also dropping scope prefixes that newer tf.keras
 * adds), and by position when names do not match: Keras writes `layer.weights` (trainable, then
 * non-trainable), the same order TF.js uses.
 */
export function bindLayerWeights(layer: Layer, stored: readonly StoredWeight[], label: string): WeightBinding[] {
  const expected = layer.weights;
  if (expected.length !== stored.length) {
    throw inputError(
      `${label}: layer ${layer.name} (${layer.getClassName()}) ` +
        `has ${stored.length} stored weights, TF.js expects ${expected.length}`,
      'the model config and weights disagree: save the full model again with model.save()',
    );
  }
  const byName = matchByName(
    expected.map((weight) => weight.originalName),
    stored,
  );
  return stored.map((weight, index) => {
    const target = expected[byName?.[index] ?? index];
    const shape = weight.dataset.shape ?? [];
    if (shape.length !== target.shape.length || shape.some((size, axis) => size !== target.shape[axis])) {
      throw inputError(
        `${label}: weight ${weight.name ?? index} of layer ${layer.name} has ` +
          `shape [${shape}], TF.js expects [${target.shape}]`,
        'the model config and weights disagree: save the full model again with model.save()',
      );
    }
    return { name: target.originalName, shape, dataset: weight.dataset };
  });
}

function matchByName(expected: readonly string[], stored: readonly StoredWeight[]): number[] | undefined {
  const used = new Set<number>();
  const result: number[] = [];
  for (const weight of stored) {
    if (weight.name === undefined) return undefined;
    const parts = normalizeWeightName(weight.name).split('/');
    let found = -1;
    for (let start = 0; start < parts.length && found < 0; start++) {
      const candidate = parts.slice(start).join('/');
      found = expected.findIndex((name, index) => !used.has(index) && name === candidate);
    }
    if (found < 0) return undefined;
    used.add(found);
    result.push(found);
  }
  return result;
}

/**
 * Binds every weight of a built TF.js model, layer by layer (nested models' layers included): values a rewrite
 * computed (by "outer/inner" path) first, else what the file stores for the layer of that path.
 */
export function bindModel(
  model: tf.LayersModel,
  computed: ReadonlyMap<string, readonly TensorValue[]>,
  stored: (path: readonly string[]) => StoredWeight[],
  label: string,
): WeightBinding[] {
  const bindings: WeightBinding[] = [];
  const visit = (container: tf.LayersModel, prefix: readonly string[]) => {
    for (const layer of container.layers) {
      const path = [...prefix, layer.name];
      if (layer instanceof tf.LayersModel) {
        visitNested(layer, path);
        continue;
      }
      if (layer.weights.length === 0) continue;
      const key = path.join('/');
      const values = computed.get(key);
      const computedWeight = (value: TensorValue) => ({
        name: `${layer.name}/${value.name}`,
        dataset: memoryTensor(`${key}/${value.name}`, value.values, value.shape),
      });
      const weights = values ? values.map(computedWeight) : stored(path);
      bindings.push(...bindLayerWeights(layer, weights, label));
    }
  };
  /**
   * A nested model's layers are bound one by one; when its stored names do not name its layers (tf.keras adds
   * `_1` to variables of a layer name used twice, as Teachable Machine exports have), the nested model is bound
   * as a whole, by position: Keras saves a model's trainable then non-trainable weights, the order TF.js uses.
   */
  const visitNested = (nested: tf.LayersModel, path: readonly string[]) => {
    const start = bindings.length;
    try {
      visit(nested, path);
    } catch (error) {
      const key = path.join('/');
      const rewritten = [...computed.keys()].some((name) => name.startsWith(`${key}/`));
      if (rewritten || (error as Error).name !== 'LambdaMlError' || nested.weights.length === 0) throw error;
      bindings.splice(start);
      bindings.push(...bindLayerWeights(nested, stored(path), label));
    }
  };
  visit(model, []);
  return bindings;
}
