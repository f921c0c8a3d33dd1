import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDataset, getGroup, openHdf5, type Dataset, type Group } from './h5-file.js';
import { isModelEntry, layerName, modelLayers, type Json } from './keras-graph.js';
import { openKerasArchive } from './keras-zip.js';
import { isKeras3Op, toSnakeCase, translateKeras3Config } from './keras3-config.js';
import type { KerasSource, StoredWeight } from './types.js';

/**
 * Opens a Keras 3 `.keras` archive. model.weights.h5 is streamed to a temp file and opened from disk:
 * h5wasm's Node build reads host files lazily (NODERAWFS), so the weights are never all in memory at once.
 */
export async function openKerasV3(path: string, label = path): Promise<KerasSource> {
  const archive = await openKerasArchive(path, label);
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-keras-'));
  const cleanup = async () => {
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const weightsPath = join(dir, 'model.weights.h5');
    await archive.extractWeights(weightsPath);
    archive.close();
    const file = await openHdf5(weightsPath, `${label} (model.weights.h5)`);
    const groups = layerGroups(file, archive.config);
    const kerasVersion = String(archive.metadata.keras_version ?? '3');
    return {
      format: 'keras-v3',
      kerasVersion,
      // tf.keras 2.13-2.15 write .keras files too: their activations are Keras 2's
      major: /^2\./.test(kerasVersion) ? 2 : 3,
      backend: 'tensorflow',
      modelConfig: translateKeras3Config(archive.config),
      file,
      datasets: () => allVars(file),
      storedWeights: (layerPath) => {
        const group = groups.get(layerPath.join('/'));
        return group ? layerVars(group) : [];
      },
      unclaimed: () => [],
      close: async () => {
        file.close();
        await cleanup();
      },
    };
  } catch (error) {
    archive.close();
    await cleanup();
    throw error;
  }
}

/**
 * Where each layer's state lives, by "outer/inner" name path. Keras 3 (saving_lib._save_container_state) keys
 * the layers of a model by class name in snake case, numbered per class (`dense`, `dense_1`), in `model.layers`
 * order: the config's order, without a Sequential's InputLayer and without ops (they are not layers).
 */
function layerGroups(file: Group, config: Json): Map<string, Group> {
  const groups = new Map<string, Group>();
  const visit = (model: Json, group: Group | undefined, prefix: readonly string[]) => {
    const used = new Map<string, number>();
    const isSequential = model.class_name === 'Sequential';
    for (const layer of modelLayers(model)) {
      if ((isSequential && layer.class_name === 'InputLayer') || isKeras3Op(layer)) continue;
      const base = toSnakeCase(String(layer.class_name));
      const count = used.get(base);
      used.set(base, count === undefined ? 0 : count + 1);
      const key = count === undefined ? base : `${base}_${count + 1}`;
      const name = layerName(layer);
      const child = group && (getGroup(group, `layers/${key}`) ?? getGroup(group, `layers/${name}`));
      const path = [...prefix, name];
      if (child) groups.set(path.join('/'), child);
      if (isModelEntry(layer)) visit(layer, child, path);
    }
  };
  visit(config, file, []);
  return groups;
}

/** A layer's own `vars`, then its inner layers' (an RNN's cell; a Bidirectional's forward, then backward). */
function layerVars(group: Group): StoredWeight[] {
  const own = varsOf(group);
  const skip = (key: string) => key === 'vars' || key === 'layers' || key.startsWith('seed_generator');
  const children = group.keys().filter((key) => !skip(key) && getGroup(group, key));
  children.sort((a, b) => (a === 'forward_layer' ? -1 : b === 'forward_layer' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return [...own, ...children.flatMap((key) => layerVars(getGroup(group, key)!))];
}

function varsOf(group: Group): StoredWeight[] {
  const vars = getGroup(group, 'vars');
  if (!vars) return [];
  return vars
    .keys()
    .sort((a, b) => Number(a) - Number(b))
    .map((key) => getDataset(vars, key))
    .filter((dataset): dataset is Dataset => Boolean(dataset))
    .map((dataset) => ({ dataset }));
}

function allVars(file: Group): Dataset[] {
  const out: Dataset[] = [];
  const walk = (group: Group) => {
    for (const key of group.keys()) {
      if (key === 'optimizer') continue;
      const child = getGroup(group, key);
      if (!child) continue;
      if (key === 'vars') out.push(...varsOf(group).map((entry) => entry.dataset as Dataset));
      else walk(child);
    }
  };
  walk(file);
  return out;
}
