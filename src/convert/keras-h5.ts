import type { LayersModel } from '@tensorflow/tfjs';
import { inputError } from '../lib/errors.js';
import { getDataset, getGroup, openHdf5, stringAttr, stringListAttr, type Dataset, type Group } from './h5-file.js';
import { bindLayerWeights } from './bind.js';
import type { KerasSource, WeightBinding } from './types.js';

/** Opens a Keras 2 / tf.keras HDF5 model (`model.save('x.h5')`): root attrs `model_config`, `keras_version`, `backend`; weights under `model_weights`. */
export async function openKerasH5(path: string, label = path): Promise<KerasSource> {
  const file = await openHdf5(path, label);
  try {
    const configText = stringAttr(file, 'model_config');
    if (configText === undefined) {
      const isWeightsOnly = file.attrs.layer_names !== undefined;
      throw inputError(
        isWeightsOnly ? `${label}: weights only (no model_config)` : `${label}: not a Keras model (no model_config attribute)`,
        'save the full model with model.save() (not save_weights()) and convert that file',
      );
    }
    let modelConfig: Record<string, unknown>;
    try {
      modelConfig = JSON.parse(configText) as Record<string, unknown>;
    } catch (error) {
      throw inputError(`${label}: model_config is not valid JSON`, 'save the model again with model.save()', error);
    }
    // Keras 2 keeps weights under model_weights; Keras 1 and weights-only files keep them at the root.
    const root = getGroup(file, 'model_weights') ?? file;
    const layerNames = stringListAttr(root, 'layer_names') ?? root.keys();
    const weightsOf = (layerName: string) => layerWeights(root, layerName, label);
    return {
      format: 'keras-h5',
      kerasVersion: stringAttr(file, 'keras_version') ?? stringAttr(root, 'keras_version') ?? 'unknown',
      backend: stringAttr(file, 'backend') ?? stringAttr(root, 'backend') ?? 'tensorflow',
      modelConfig,
      file,
      datasets: () => layerNames.flatMap((name) => weightsOf(name).map((weight) => weight.dataset)),
      bind: (model) => bindH5(model, layerNames, weightsOf, label),
      close: async () => { file.close(); },
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

interface StoredWeight { readonly name: string; readonly dataset: Dataset }

function layerWeights(root: Group, layerName: string, label: string): StoredWeight[] {
  const group = getGroup(root, layerName);
  if (!group) return [];
  const names = stringListAttr(group, 'weight_names') ?? [];
  return names.map((name) => {
    const dataset = getDataset(group, name);
    if (!dataset) throw inputError(`${label}: weight ${layerName}/${name} is listed but missing`, 'the file is damaged: save the model again');
    return { name, dataset };
  });
}

function bindH5(model: LayersModel, layerNames: readonly string[], weightsOf: (name: string) => StoredWeight[], label: string): WeightBinding[] {
  const byName = new Map(model.layers.map((layer) => [layer.name, layer]));
  const bindings: WeightBinding[] = [];
  for (const layerName of layerNames) {
    const stored = weightsOf(layerName);
    if (stored.length === 0) continue;
    const layer = byName.get(layerName);
    if (!layer) throw inputError(`${label}: weights for layer ${layerName}, which model_config does not have`, 'save the full model again with model.save()');
    bindings.push(...bindLayerWeights(layer, stored, label));
  }
  return bindings;
}
