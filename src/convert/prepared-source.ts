import type * as tf from '@tensorflow/tfjs';
import { inputError } from '../lib/errors.js';
import { bindModel } from './bind.js';
import { prepareForTfjs } from './build-model.js';
import { readTensor } from './read-tensor.js';
import type { TensorValue } from './rewrite-types.js';
import type { KerasSource, WeightBinding } from './types.js';

/** A Keras source whose config is ready for TF.js (identities dropped, rewrites in), with its weight binder. */
export interface PreparedSource {
  /** The source with the prepared `modelConfig` (what model.json gets). */
  readonly source: KerasSource;
  readonly modelConfig: Record<string, unknown>;
  /** One line per dropped or rewritten layer. */
  readonly notes: readonly string[];
  /** Pairs each weight of a model built from `modelConfig` with its stored (or computed) values. */
  readonly bind: (model: tf.LayersModel) => WeightBinding[];
}

/** Runs prepare-model.ts on an opened Keras file; throws one error listing every layer that cannot be converted. */
export async function prepareSource(source: KerasSource, label: string): Promise<PreparedSource> {
  const stored = (path: readonly string[]): TensorValue[] =>
    source.storedWeights(path).map((weight) => {
      const tensor = readTensor(weight.dataset, label);
      const values = tensor.dtype === 'float32' ? tensor.values : Float32Array.from(tensor.values);
      return { name: weight.name ?? '', shape: weight.dataset.shape ?? [], values };
    });
  const prepared = await prepareForTfjs({ config: source.modelConfig, major: source.major, stored }, label);
  const unclaimed = source.unclaimed();
  if (unclaimed.length > 0) {
    const message = `${label}: weights for layer ${unclaimed[0]}, which model_config does not have`;
    throw inputError(message, 'save the full model again with model.save()');
  }
  const { modelConfig } = prepared;
  return {
    source: { ...source, modelConfig },
    modelConfig,
    notes: prepared.notes,
    bind: (model) => bindModel(model, prepared.weights, source.storedWeights, label),
  };
}
