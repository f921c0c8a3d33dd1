// Test helper: writes real-layout Keras files from a TF.js layers model, so `convert` can be checked by round trips.
// Keras 2 `.h5`: root attrs model_config/keras_version/backend, model_weights/<layer>/<layer>/<weight>:0 + weight_names.
// Keras 3 `.keras`: a zip of config.json, metadata.json and model.weights.h5 (layers/<snake_class>[_n]/vars/<i>).
import { writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';
import { readFile, rm } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { h5Ready, type Group } from '../../src/convert/h5-file.js';
import { toSnakeCase } from '../../src/convert/keras3-config.js';

type Json = Record<string, unknown>;

/** float32 values of every weight of a loaded TF.js model, by TF.js weight name (quantised models come back dequantised). */
function weightValues(layer: tf.layers.Layer): { name: string; shape: number[]; values: Float32Array | Int32Array }[] {
  return layer.weights.map((weight) => {
    const tensor = weight.read();
    const values = tensor.dataSync() as Float32Array | Int32Array;
    return { name: weight.originalName, shape: weight.shape as number[], values: values.slice() };
  });
}

/** Writes a Keras 2 HDF5 model (what `model.save('x.h5')` writes) from a TF.js model and its Keras 2 `model_config`. */
export async function writeKerasH5(path: string, model: tf.LayersModel, modelConfig: Json, kerasVersion = '2.2.4'): Promise<void> {
  const h5wasm = await h5Ready();
  await rm(path, { force: true });
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('model_config', JSON.stringify(modelConfig));
    file.create_attribute('keras_version', kerasVersion);
    file.create_attribute('backend', 'tensorflow');
    const root = file.create_group('model_weights');
    root.create_attribute('layer_names', model.layers.map((layer) => layer.name));
    root.create_attribute('keras_version', kerasVersion);
    root.create_attribute('backend', 'tensorflow');
    for (const layer of model.layers) {
      const group = root.create_group(layer.name);
      const weights = weightValues(layer);
      // Keras writes an empty float array for layers without weights
      if (weights.length === 0) group.create_attribute('weight_names', new Float64Array(0), [0]);
      else group.create_attribute('weight_names', weights.map((weight) => `${weight.name}:0`));
      for (const weight of weights) createDataset(group, `${weight.name}:0`, weight.values, weight.shape);
    }
  } finally {
    file.close();
  }
}

function createDataset(group: Group, path: string, values: Float32Array | Int32Array, shape: number[]): void {
  const parts = path.split('/');
  let parent = group;
  for (const part of parts.slice(0, -1)) parent = parent.keys().includes(part) ? (parent.get(part) as Group) : parent.create_group(part);
  parent.create_dataset({ name: parts[parts.length - 1], data: values, shape, dtype: values instanceof Float32Array ? '<f' : '<i' });
}

/** Writes a Keras 3 `.keras` archive from a TF.js model and its Keras 2 `model_config` (translated to Keras 3's layout). */
export async function writeKerasV3(path: string, model: tf.LayersModel, modelConfig: Json, kerasVersion = '3.5.0'): Promise<void> {
  const h5wasm = await h5Ready();
  const weightsPath = `${path}.weights.h5`;
  await rm(weightsPath, { force: true });
  const file = new h5wasm.File(weightsPath, 'w');
  try {
    file.create_group('vars');
    writeV3Layers(file, model);
  } finally {
    file.close();
  }
  const weights = await readFile(weightsPath);
  await rm(weightsPath, { force: true });
  const config = toKeras3(modelConfig, model);
  const metadata = { keras_version: kerasVersion, date_saved: '2024-01-01@00:00:00' };
  await writeFile(path, zip([
    ['metadata.json', Buffer.from(JSON.stringify(metadata))],
    ['config.json', Buffer.from(JSON.stringify(config))],
    ['model.weights.h5', weights],
  ]));
}

function writeV3Layers(group: Group, container: tf.LayersModel): void {
  const layersGroup = group.create_group('layers');
  const used = new Map<string, number>();
  for (const layer of container.layers) {
    const className = layer.getClassName() === 'Model' ? 'Functional' : layer.getClassName();
    const base = toSnakeCase(className);
    const count = used.get(base);
    used.set(base, count === undefined ? 0 : count + 1);
    const child = layersGroup.create_group(count === undefined ? base : `${base}_${count + 1}`);
    if (layer instanceof tf.LayersModel) {
      child.create_group('vars');
      writeV3Layers(child, layer);
      continue;
    }
    const vars = child.create_group('vars');
    weightValues(layer).forEach((weight, index) => {
      vars.create_dataset({ name: String(index), data: weight.values, shape: weight.shape, dtype: weight.values instanceof Float32Array ? '<f' : '<i' });
    });
  }
}

const policy = (name: unknown) => ({ module: 'keras', class_name: 'DTypePolicy', config: { name: name ?? 'float32' }, registered_name: null });

/** Keras 2 config -> Keras 3 `config.json` (dtype policies, batch_shape, `{args, kwargs}` nodes with `__keras_tensor__`s). */
export function toKeras3(entry: Json, model?: tf.LayersModel): Json {
  const className = entry.class_name === 'Model' ? 'Functional' : String(entry.class_name);
  const config = Array.isArray(entry.config) ? { name: 'sequential', layers: entry.config } : { ...(entry.config as Json) };
  const out: Json = { module: 'keras.layers', class_name: className, config: {}, registered_name: null };
  const next: Json = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'layers') next.layers = (value as Json[]).map((layer) => toKeras3(layer, model));
    else if (key === 'dtype') next.dtype = policy(value);
    else if (key === 'batch_input_shape') next.batch_shape = value;
    else if (key.endsWith('_initializer') && value && typeof value === 'object') next[key] = { module: 'keras.initializers', ...(value as Json), registered_name: null };
    else next[key] = value;
  }
  if (className === 'Dense') next.lora_rank = null; // a Keras 3.x key TF.js has never heard of
  out.config = next;
  if (entry.name !== undefined) out.name = entry.name;
  if (Array.isArray(entry.inbound_nodes)) {
    out.inbound_nodes = (entry.inbound_nodes as unknown[][][]).map((node) => {
      const tensors = node.map(([layer, nodeIndex, tensorIndex]) => ({
        class_name: '__keras_tensor__',
        config: { shape: outputShape(model, String(layer)), dtype: 'float32', keras_history: [layer, nodeIndex, tensorIndex] },
      }));
      return { args: tensors.length === 1 ? tensors : [tensors], kwargs: {} };
    });
  }
  if (className === 'Functional') {
    // Keras 3 writes a single input/output as one triple rather than a list of triples
    const cfg = out.config as Json;
    for (const key of ['input_layers', 'output_layers']) {
      const value = cfg[key] as unknown[];
      if (Array.isArray(value) && value.length === 1) cfg[key] = value[0];
    }
  }
  return out;
}

function outputShape(model: tf.LayersModel | undefined, name: string): unknown {
  try {
    return model?.getLayer(name).outputShape ?? null;
  } catch {
    return null;
  }
}

/** A minimal zip writer (config.json deflated, the rest stored, like Python's zipfile) so the helper needs no archiver. */
export function zip(entries: readonly [string, Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const isDeflated = name.endsWith('.json');
    const body = isDeflated ? deflateRawSync(data) : data;
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(isDeflated ? 8 : 0, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(isDeflated ? 8 : 0, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}
