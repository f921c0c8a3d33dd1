import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inputError } from '../lib/errors.js';
import { bindLayerWeights } from './bind.js';
import { getDataset, getGroup, openHdf5, type Dataset, type Group } from './h5-file.js';
import { openKerasArchive } from './keras-zip.js';
import { toSnakeCase, translateKeras3Config } from './keras3-config.js';
import type { KerasSource, WeightBinding } from './types.js';

/**
 * Opens a Keras 3 `.keras` archive. model.weights.h5 is streamed to a temp file and opened from disk:
 * h5wasm's Node build reads host files lazily (NODERAWFS), so the weights are never all in memory at once.
 */
export async function openKerasV3(path: string, label = path): Promise<KerasSource> {
  const archive = await openKerasArchive(path, label);
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-keras-'));
  const cleanup = async () => { await rm(dir, { recursive: true, force: true }); };
  try {
    const weightsPath = join(dir, 'model.weights.h5');
    await archive.extractWeights(weightsPath);
    archive.close();
    const file = await openHdf5(weightsPath, `${label} (model.weights.h5)`);
    return {
      format: 'keras-v3',
      kerasVersion: String(archive.metadata.keras_version ?? '3'),
      backend: 'tensorflow',
      modelConfig: translateKeras3Config(archive.config),
      file,
      datasets: () => allVars(file),
      bind: (model) => bindV3(model, file, label),
      close: async () => { file.close(); await cleanup(); },
    };
  } catch (error) {
    archive.close();
    await cleanup();
    throw error;
  }
}

/** Keras 3 keys each layer by its class name in snake case, numbered per class (`dense`, `dense_1`), not by `layer.name`. */
function bindV3(model: tf.LayersModel, file: Group, label: string): WeightBinding[] {
  const bindings: WeightBinding[] = [];
  const visit = (container: tf.LayersModel, group: Group | undefined) => {
    const used = new Map<string, number>();
    for (const layer of container.layers) {
      const base = toSnakeCase(kerasClassName(layer));
      const count = used.get(base);
      used.set(base, count === undefined ? 0 : count + 1);
      const key = count === undefined ? base : `${base}_${count + 1}`;
      const child = group && (getGroup(group, `layers/${key}`) ?? getGroup(group, `layers/${layer.name}`) ?? getGroup(group, `_layer_checkpoint_dependencies/${layer.name}`));
      if (layer instanceof tf.LayersModel) { visit(layer, child); continue; }
      if (layer.weights.length === 0) continue;
      if (!child) throw inputError(`${label}: no weights for layer ${layer.name} (looked for layers/${key} in model.weights.h5)`, 'save the model again with model.save("x.keras")');
      bindings.push(...bindLayerWeights(layer, varsOf(child), label));
    }
  };
  visit(model, file);
  return bindings;
}

/** Python class names: TF.js reports functional models as `Model`. */
const kerasClassName = (layer: tf.layers.Layer) => (layer.getClassName() === 'Model' ? 'Functional' : layer.getClassName());

function varsOf(group: Group): { dataset: Dataset }[] {
  const vars = getGroup(group, 'vars');
  if (!vars) return [];
  return vars.keys().sort((a, b) => Number(a) - Number(b)).map((key) => ({ dataset: getDataset(vars, key)! })).filter((entry) => entry.dataset);
}

function allVars(file: Group): Dataset[] {
  const out: Dataset[] = [];
  const walk = (group: Group) => {
    for (const key of group.keys()) {
      if (key === 'optimizer') continue;
      const child = getGroup(group, key);
      if (!child) continue;
      if (key === 'vars') out.push(...varsOf(group).map((entry) => entry.dataset));
      else walk(child);
    }
  };
  walk(file);
  return out;
}
