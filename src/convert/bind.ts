import type { layers } from '@tensorflow/tfjs';
import { inputError } from '../lib/errors.js';
import type { Dataset } from './h5-file.js';
import type { WeightBinding } from './types.js';

type Layer = layers.Layer;

/** A stored weight: its Keras name (Keras 2; Keras 3 stores none) and its dataset. */
export interface StoredWeight { readonly name?: string; readonly dataset: Dataset }

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
      `${label}: layer ${layer.name} (${layer.getClassName()}) has ${stored.length} stored weights, TF.js expects ${expected.length}`,
      'the model config and weights disagree: save the full model again with model.save()',
    );
  }
  const byName = matchByName(expected.map((weight) => weight.originalName), stored);
  return stored.map((weight, index) => {
    const target = expected[byName?.[index] ?? index];
    const shape = weight.dataset.shape ?? [];
    if (shape.length !== target.shape.length || shape.some((size, axis) => size !== target.shape[axis])) {
      throw inputError(
        `${label}: weight ${weight.name ?? index} of layer ${layer.name} has shape [${shape}], TF.js expects [${target.shape}]`,
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
