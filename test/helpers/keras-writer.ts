// Test helper: writes real-layout Keras files from a TF.js layers model, so `convert` can be checked by round trips.
// Keras 2 `.h5`: root attrs model_config/keras_version/backend, model_weights/<layer>/<layer>/<weight>:0 +
// weight_names.
// Keras 3 `.keras`: a zip of config.json, metadata.json and model.weights.h5 (layers/<snake_class>[_n]/vars/<i>).
import { writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';
import { readFile, rm } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { h5Ready, type Group } from '../../src/convert/h5-file.js';
import { toSnakeCase } from '../../src/convert/keras3-config.js';

type Json = Record<string, unknown>;

/**
 * float32 values of every weight of a loaded TF.js model, by TF.js weight name (quantised models come back
 * dequantised).
 */
function weightValues(layer: tf.layers.Layer): { name: string; shape: number[]; values: Float32Array | Int32Array }[] {
  return layer.weights.map((weight) => {
    const tensor = weight.read();
    const values = tensor.dataSync() as Float32Array | Int32Array;
    return { name: weight.originalName, shape: weight.shape as number[], values: values.slice() };
  });
}

/** Writes a Keras 2 HDF5 model (what `model.save('x.h5')` writes) from a TF.js model and its Keras 2 `model_config`. */
export async function writeKerasH5(
  path: string,
  model: tf.LayersModel,
  modelConfig: Json,
  kerasVersion = '2.2.4',
): Promise<void> {
  const h5wasm = await h5Ready();
  await rm(path, { force: true });
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_attribute('model_config', JSON.stringify(modelConfig));
    file.create_attribute('keras_version', kerasVersion);
    file.create_attribute('backend', 'tensorflow');
    const root = file.create_group('model_weights');
    root.create_attribute(
      'layer_names',
      model.layers.map((layer) => layer.name),
    );
    root.create_attribute('keras_version', kerasVersion);
    root.create_attribute('backend', 'tensorflow');
    for (const layer of model.layers) {
      const group = root.create_group(layer.name);
      const weights = weightValues(layer);
      // Keras writes an empty float array for layers without weights
      if (weights.length === 0) group.create_attribute('weight_names', new Float64Array(0), [0]);
      else
        group.create_attribute(
          'weight_names',
          weights.map((weight) => `${weight.name}:0`),
        );
      for (const weight of weights) createDataset(group, `${weight.name}:0`, weight.values, weight.shape);
    }
  } finally {
    file.close();
  }
}

function createDataset(group: Group, path: string, values: Float32Array | Int32Array, shape: number[]): void {
  const parts = path.split('/');
  let parent = group;
  for (const part of parts.slice(0, -1))
    parent = parent.keys().includes(part) ? (parent.get(part) as Group) : parent.create_group(part);
  parent.create_dataset({
    name: parts[parts.length - 1],
    data: values,
    shape,
    dtype: values instanceof Float32Array ? '<f' : '<i',
  });
}

/**
 * Writes a Keras 3 `.keras` archive from a TF.js model and its Keras 2 `model_config` (translated to Keras 3's layout).
 */
export async function writeKerasV3(
  path: string,
  model: tf.LayersModel,
  modelConfig: Json,
  kerasVersion = '3.5.0',
): Promise<void> {
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
  await writeFile(
    path,
    zip([
      ['metadata.json', Buffer.from(JSON.stringify(metadata))],
      ['config.json', Buffer.from(JSON.stringify(config))],
      ['model.weights.h5', weights],
    ]),
  );
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
      vars.create_dataset({
        name: String(index),
        data: weight.values,
        shape: weight.shape,
        dtype: weight.values instanceof Float32Array ? '<f' : '<i',
      });
    });
  }
}

const policy = (name: unknown) => ({
  module: 'keras',
  class_name: 'DTypePolicy',
  config: { name: name ?? 'float32' },
  registered_name: null,
});

/** Options of `toKeras3`: `legacy` writes what Keras 3's `.h5` saver writes (no module/registered_name on layers). */
export interface Keras3Options {
  readonly legacy?: boolean;
}

const keras3Tensor = (ref: unknown[], model?: tf.LayersModel) => ({
  class_name: '__keras_tensor__',
  config: { shape: outputShape(model, String(ref[0])), dtype: 'float32', keras_history: [ref[0], ref[1], ref[2]] },
});
const isRef = (value: unknown): value is unknown[] =>
  Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'number';

/**
 * Keras 2 config -> Keras 3 `config.json` (dtype policies, batch_shape, `{args, kwargs}` nodes of `__keras_tensor__`s,
 * an InputLayer first in a Sequential, nested Sequential calls counted from node 0, Keras 3 option names). Entries
 * of class `ops.X` become Keras 3 op nodes (keras.src.ops.numpy.X) called with two arguments.
 */
export function toKeras3(entry: Json, model?: tf.LayersModel, options: Keras3Options = {}): Json {
  const rawClass = String(entry.class_name);
  if (rawClass.startsWith('ops.')) return opToKeras3(entry, model, options);
  const className = rawClass === 'Model' ? 'Functional' : rawClass;
  const config = Array.isArray(entry.config)
    ? { name: 'sequential', layers: entry.config }
    : { ...(entry.config as Json) };
  if (className === 'Sequential') config.layers = withInputLayer(config.layers as Json[]);
  const module =
    className === 'Functional' ? 'keras.src.models.functional' : className === 'Sequential' ? 'keras' : 'keras.layers';
  const out: Json = options.legacy
    ? { class_name: className, config: {} }
    : { module, class_name: className, config: {}, registered_name: null };
  const next: Json = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'layers') next.layers = (value as Json[]).map((layer) => toKeras3(layer, model, options));
    else if (key === 'dtype') next.dtype = className === 'InputLayer' ? (value ?? 'float32') : policy(value);
    else if (key === 'batch_input_shape') next.batch_shape = value;
    else if (key === 'alpha' && className === 'LeakyReLU') next.negative_slope = value;
    else if (key.endsWith('_initializer') && value && typeof value === 'object')
      next[key] = { module: 'keras.initializers', ...(value as Json), registered_name: null };
    else next[key] = value;
  }
  if (className === 'Dense') next.lora_rank = null; // a Keras 3.x key TF.js has never heard of
  out.config = next;
  if (entry.name !== undefined) out.name = entry.name;
  if (Array.isArray(entry.inbound_nodes)) {
    out.inbound_nodes = (entry.inbound_nodes as unknown[][][]).map((node) => {
      const tensors = node.map((ref) => keras3Tensor(ref, model));
      return { args: tensors.length === 1 ? tensors : [tensors], kwargs: {} };
    });
  }
  if (className === 'Functional') {
    const cfg = out.config as Json;
    unshiftSequentialRefs(cfg);
    // Keras 3 writes a single input/output as one triple rather than a list of triples
    for (const key of ['input_layers', 'output_layers']) {
      const value = cfg[key] as unknown[];
      if (Array.isArray(value) && value.length === 1) cfg[key] = value[0];
    }
  }
  return out;
}

/** Keras 3 Sequential configs list their InputLayer first (Keras 2 puts the shape on the first layer). */
function withInputLayer(layers: Json[]): Json[] {
  const first = layers[0];
  const config = first?.config as Json | undefined;
  if (!first || first.class_name === 'InputLayer' || !config || !Array.isArray(config.batch_input_shape)) return layers;
  const { batch_input_shape: shape, ...rest } = config;
  const inputConfig = { batch_input_shape: shape, dtype: 'float32', sparse: false, name: 'input_layer' };
  const input = { class_name: 'InputLayer', config: inputConfig };
  return [input, { ...first, config: rest }, ...layers.slice(1)];
}

/** A nested Sequential is not a Functional in Keras 3, so its calls are nodes 0, 1, ... (Keras 2 counts from 1). */
function unshiftSequentialRefs(config: Json): void {
  const layers = (config.layers as Json[]) ?? [];
  const sequential = new Set(
    layers
      .filter((layer) => layer.class_name === 'Sequential')
      .map((layer) => String(layer.name ?? (layer.config as Json).name)),
  );
  const fix = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(fix);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const history = ((value as Json).config as Json | undefined)?.keras_history as unknown[] | undefined;
    const isTensor = (value as Json).class_name === '__keras_tensor__';
    if (isTensor && history && sequential.has(String(history[0]))) history[1] = Number(history[1]) - 1;
    else Object.values(value as Json).forEach(fix);
  };
  for (const layer of layers) fix(layer.inbound_nodes);
  const outputs = config.output_layers as unknown[];
  for (const ref of (typeof outputs?.[0] === 'string' ? [outputs] : (outputs ?? [])) as unknown[][]) {
    if (sequential.has(String(ref[0]))) ref[1] = Number(ref[1]) - 1;
  }
}

/** `ops.X` with Keras 2 style node `[[a, n, t, {y}]]` (or `["_CONSTANT_VALUE", -1, c, {y}]`) -> a Keras 3 op node. */
function opToKeras3(entry: Json, model: tf.LayersModel | undefined, options: Keras3Options): Json {
  const className = String(entry.class_name).slice('ops.'.length);
  const name = String((entry.config as Json).name);
  const out: Json = options.legacy
    ? { class_name: className, config: { name } }
    : { module: 'keras.src.ops.numpy', class_name: className, config: { name }, registered_name: className };
  out.name = name;
  out.inbound_nodes = (entry.inbound_nodes as unknown[][][]).map(([first]) => {
    const y = (first[3] as Json).y;
    const a = first[0] === '_CONSTANT_VALUE' ? first[2] : keras3Tensor(first, model);
    return { args: [a, isRef(y) ? keras3Tensor(y, model) : y], kwargs: {} };
  });
  return out;
}

/** One weight of a model spec, in the order Keras saves a layer's weights (trainable, then non-trainable). */
export interface SpecWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array | Int32Array;
  /** Sub-group of the layer in Keras 3 files: `cell` for an RNN, `forward_layer/cell` for a Bidirectional. */
  readonly group?: string;
  /** The variable's path inside the layer in Keras 2 files (`lstm_cell/kernel` for an LSTM); default `name`. */
  readonly keras2Name?: string;
  /** The scope Keras 2 names the variable with; default the layer's name (tf.keras renames reused ones `conv_1`). */
  readonly keras2Scope?: string;
}

/** A model to write without TF.js: a Keras 2 style config and each layer's weights by path ("outer/inner"). */
export interface ModelSpec {
  readonly config: Json;
  readonly weights: Readonly<Record<string, readonly SpecWeight[]>>;
}

/** File layouts the spec writer produces. */
export type SpecFormat = 'keras2-h5' | 'keras3-keras' | 'keras3-h5';

const layersOf = (entry: Json): Json[] =>
  Array.isArray(entry.config) ? entry.config : (((entry.config as Json).layers as Json[]) ?? []);
const nameOf = (entry: Json) => String((entry.config as Json)?.name ?? entry.name ?? '');
const isModel = (entry: Json) => ['Sequential', 'Model', 'Functional'].includes(String(entry.class_name));

/** Every weight of a layer path and the layers nested in it, with its path. */
function weightsUnder(spec: ModelSpec, path: string): { path: string; weight: SpecWeight }[] {
  return Object.entries(spec.weights)
    .filter(([key]) => key === path || key.startsWith(`${path}/`))
    .flatMap(([key, weights]) => weights.map((weight) => ({ path: key, weight })));
}

const NON_TRAINABLE = /^(moving_mean|moving_variance|mean|variance|count)$/;
const dtypeOf = (values: Float32Array | Int32Array) => (values instanceof Float32Array ? '<f' : '<i');

/**
 * Writes a model spec as Keras 2 `.h5` (tf.keras 2.15 layout: `<layer>/<layer>/<weight>:0`), Keras 3 `.h5`
 * (keras/src/legacy/saving/legacy_h5_format.py: legacy config, variable paths without `:0`, keras_version 3.8.0)
 * or Keras 3 `.keras` (saving_lib: `layers/<snake_class>[_n]/vars/<i>`).
 */
export async function writeKerasSpec(path: string, format: SpecFormat, spec: ModelSpec): Promise<void> {
  const h5wasm = await h5Ready();
  if (format === 'keras3-keras') {
    const weightsPath = `${path}.weights.h5`;
    await rm(weightsPath, { force: true });
    const file = new h5wasm.File(weightsPath, 'w');
    try {
      file.create_group('vars');
      writeSpecV3Layers(file, spec, spec.config, []);
    } finally {
      file.close();
    }
    const weights = await readFile(weightsPath);
    await rm(weightsPath, { force: true });
    const metadata = { keras_version: '3.8.0', date_saved: '2025-01-01@00:00:00' };
    await writeFile(
      path,
      zip([
        ['metadata.json', Buffer.from(JSON.stringify(metadata))],
        ['config.json', Buffer.from(JSON.stringify(toKeras3(spec.config)))],
        ['model.weights.h5', weights],
      ]),
    );
    return;
  }
  const keras3 = format === 'keras3-h5';
  const version = keras3 ? '3.8.0' : '2.15.0';
  const config = keras3 ? toKeras3(spec.config, undefined, { legacy: true }) : spec.config;
  await rm(path, { force: true });
  const file = new h5wasm.File(path, 'w');
  try {
    const modelConfig = keras3 ? { class_name: config.class_name, config: config.config } : config;
    file.create_attribute('model_config', JSON.stringify(modelConfig));
    file.create_attribute('keras_version', version);
    file.create_attribute('backend', 'tensorflow');
    const root = file.create_group('model_weights');
    // model.layers: a Sequential's own InputLayer is not one of them (Keras 3 lists it in the config only)
    const ownInput = (layer: Json) => config.class_name === 'Sequential' && layer.class_name === 'InputLayer';
    const layers = layersOf(config).filter((layer) => !ownInput(layer) && !isOpEntry(layer, keras3));
    root.create_attribute('layer_names', layers.length > 0 ? layers.map(nameOf) : ['']);
    root.create_attribute('keras_version', version);
    root.create_attribute('backend', 'tensorflow');
    for (const layer of layers) {
      const name = nameOf(layer);
      const group = root.create_group(name);
      // a nested model saves model.trainable_weights + model.non_trainable_weights (legacy_h5_format._legacy_weights)
      const fixed = (entry: { weight: SpecWeight }) => NON_TRAINABLE.test(entry.weight.name);
      const all = weightsUnder(spec, name);
      const entries = isModel(layer) ? [...all.filter((entry) => !fixed(entry)), ...all.filter(fixed)] : all;
      // Keras writes an empty float array for layers without weights
      const names = entries.map(({ path: layerPath, weight }) => {
        const leaf = layerPath.split('/').pop();
        const inner = weight.keras2Name ?? weight.name;
        return keras3 ? `${layerPath}/${inner}` : `${weight.keras2Scope ?? leaf}/${inner}:0`;
      });
      if (entries.length === 0) group.create_attribute('weight_names', new Float64Array(0), [0]);
      else group.create_attribute('weight_names', names);
      entries.forEach(({ weight }, index) => createDataset(group, names[index], weight.values, [...weight.shape]));
    }
    if (keras3) root.create_group('top_level_model_weights').create_attribute('weight_names', new Float64Array(0), [0]);
  } finally {
    file.close();
  }
}

/** A Keras 3 op in a legacy `.h5` config (ops are not layers: they have no `trainable`, and no weights group). */
const isOpEntry = (layer: Json, keras3: boolean) =>
  keras3 &&
  ['TrueDivide', 'Divide', 'Add', 'Subtract', 'Multiply'].includes(String(layer.class_name)) &&
  (layer.config as Json).trainable === undefined;

/** Keras 3's saving_lib layout: a model's layers keyed by snake-case class, numbered per class, model.layers order. */
function writeSpecV3Layers(group: Group, spec: ModelSpec, model: Json, prefix: string[]): void {
  const layersGroup = group.create_group('layers');
  const used = new Map<string, number>();
  for (const layer of layersOf(model)) {
    const className = String(layer.class_name);
    if ((model.class_name === 'Sequential' && className === 'InputLayer') || className.startsWith('ops.')) continue;
    const base = toSnakeCase(className === 'Model' ? 'Functional' : className);
    const count = used.get(base);
    used.set(base, count === undefined ? 0 : count + 1);
    const child = layersGroup.create_group(count === undefined ? base : `${base}_${count + 1}`);
    const path = [...prefix, nameOf(layer)];
    if (isModel(layer)) {
      child.create_group('vars');
      writeSpecV3Layers(child, spec, layer, path);
      continue;
    }
    const byGroup = new Map<string, SpecWeight[]>();
    for (const weight of spec.weights[path.join('/')] ?? []) {
      const key = weight.group ?? '';
      byGroup.set(key, [...(byGroup.get(key) ?? []), weight]);
    }
    if (!byGroup.has('')) byGroup.set('', []);
    for (const [sub, weights] of byGroup) {
      let target = child;
      for (const part of sub.split('/').filter(Boolean)) {
        target = target.keys().includes(part) ? (target.get(part) as Group) : target.create_group(part);
      }
      const vars = target.keys().includes('vars') ? (target.get('vars') as Group) : target.create_group('vars');
      weights.forEach((weight, index) => {
        const { values, shape } = weight;
        vars.create_dataset({ name: String(index), data: values, shape: [...shape], dtype: dtypeOf(values) });
      });
    }
  }
}

function outputShape(model: tf.LayersModel | undefined, name: string): unknown {
  try {
    return model?.getLayer(name).outputShape ?? null;
  } catch {
    return null;
  }
}

/**
 * A minimal zip writer (config.json deflated, the rest stored, like Python's zipfile) so the helper needs no archiver.
 */
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
