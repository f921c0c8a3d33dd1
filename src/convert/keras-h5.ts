import { inputError } from '../lib/errors.js';
import { getDataset, getGroup, openHdf5, stringAttr, stringListAttr, type Group } from './h5-file.js';
import { normalizeWeightName } from './bind.js';
import { isObject, layerName, modelLayers } from './keras-graph.js';
import { translateKeras3Config } from './keras3-config.js';
import type { KerasSource, StoredWeight } from './types.js';

/**
 * Opens a Keras HDF5 model (`model.save('x.h5')`): root attrs `model_config`, `keras_version`, `backend`; weights
 * under `model_weights/<layer>/` listed by `weight_names`. Keras 2 and tf.keras write `<layer>/<weight>:0`; Keras 3
 * (keras/src/legacy/saving/legacy_h5_format.py) writes variable paths without `:0`, and a Keras 3 `model_config`
 * (dtype policies, `batch_shape`, `{args, kwargs}` nodes) that is translated as the `.keras` reader does.
 */
export async function openKerasH5(path: string, label = path): Promise<KerasSource> {
  const file = await openHdf5(path, label);
  try {
    const configText = stringAttr(file, 'model_config');
    if (configText === undefined) {
      const isWeightsOnly = file.attrs.layer_names !== undefined;
      throw inputError(
        isWeightsOnly
          ? `${label}: weights only (no model_config)`
          : `${label}: not a Keras model (no model_config attribute)`,
        'save the full model with model.save() (not save_weights()) and convert that file',
      );
    }
    let rawConfig: Record<string, unknown>;
    try {
      rawConfig = JSON.parse(configText) as Record<string, unknown>;
    } catch (error) {
      throw inputError(`${label}: model_config is not valid JSON`, 'save the model again with model.save()', error);
    }
    // Keras 2 keeps weights under model_weights; Keras 1 and weights-only files keep them at the root.
    const root = getGroup(file, 'model_weights') ?? file;
    const version = stringAttr(file, 'keras_version') ?? stringAttr(root, 'keras_version');
    const kerasVersion = version ?? 'unknown';
    // the version decides when it is there (tf.keras 2.13+ configs have module/registered_name too)
    const major = version ? (/^3\./.test(version) ? 3 : 2) : looksLikeKeras3(rawConfig) ? 3 : 2;
    const modelConfig = major === 3 ? translateKeras3Config(rawConfig) : rawConfig;
    const layerNames = stringListAttr(root, 'layer_names') ?? root.keys();
    // memoised: a nested model's layers all read their top-level group
    const groups = new Map<string, StoredWeight[]>();
    const weightsOf = (layerName: string) => {
      let weights = groups.get(layerName);
      if (!weights) groups.set(layerName, (weights = layerWeights(root, layerName, label)));
      return weights;
    };
    return {
      format: 'keras-h5',
      kerasVersion,
      major,
      backend: stringAttr(file, 'backend') ?? stringAttr(root, 'backend') ?? 'tensorflow',
      modelConfig,
      file,
      datasets: () => layerNames.flatMap((name) => weightsOf(name).map((weight) => weight.dataset)),
      storedWeights: (layerPath) => storedWeights(weightsOf(layerPath[0]), layerPath),
      unclaimed: () => {
        const known = new Set(modelLayers(modelConfig).map(layerName));
        return layerNames.filter((name) => !known.has(name) && weightsOf(name).length > 0);
      },
      close: async () => {
        file.close();
      },
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * A nested model's layers share their top-level group: each takes the weights whose name has its own name as a
 * scope (`dense_1/kernel:0`, `sequential/dense_1/kernel`, `bidirectional/forward_lstm/lstm_cell/kernel:0`).
 */
function storedWeights(group: StoredWeight[], path: readonly string[]): StoredWeight[] {
  if (path.length === 1) return group;
  const leaf = path[path.length - 1];
  return group.filter((weight) =>
    normalizeWeightName(weight.name ?? '')
      .split('/')
      .slice(0, -1)
      .includes(leaf),
  );
}

function layerWeights(root: Group, layerName: string, label: string): StoredWeight[] {
  const group = getGroup(root, layerName);
  if (!group) return [];
  const names = stringListAttr(group, 'weight_names') ?? [];
  return names.map((name) => {
    const dataset = getDataset(group, name);
    if (!dataset)
      throw inputError(
        `${label}: weight ${layerName}/${name} is listed but missing`,
        'the file is damaged: save the model again',
      );
    return { name, dataset };
  });
}

/** Keras 3 configs (also without keras_version) carry dtype policies, `batch_shape` or `{args, kwargs}` nodes. */
export function looksLikeKeras3(config: unknown, depth = 0): boolean {
  if (depth > 6 || config === null || typeof config !== 'object') return false;
  if (Array.isArray(config)) return config.some((item) => looksLikeKeras3(item, depth + 1));
  if ('batch_shape' in config || 'registered_name' in config) return true;
  if ((config as Record<string, unknown>).class_name === 'DTypePolicy') return true;
  const nodes = (config as Record<string, unknown>).inbound_nodes;
  if (Array.isArray(nodes) && isObject(nodes[0]) && 'args' in nodes[0]) return true;
  return Object.values(config).some((value) => looksLikeKeras3(value, depth + 1));
}
