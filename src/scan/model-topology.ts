/**
 * How many classes a model outputs, read from its topology without loading it: the units of the layer that
 * produces the output of a Keras-style config (TF.js layers models and Keras files share it), or the last
 * dimension of a graph model's one output in its signature. null when it cannot be known (several outputs, a
 * layer whose width is not written down): then nothing is checked.
 */

type Json = Record<string, unknown>;

/** Layers whose output has the width of their input: looked through to the layer that sets it. */
const PASS_THROUGH = new Set([
  'Activation',
  'Softmax',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'ThresholdedReLU',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
  'BatchNormalization',
  'LayerNormalization',
  'Identity',
]);
const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** The output layer's name and units (e.g. { layer: "dense_3", units: 5 }), or null when unknown. */
export interface OutputUnits {
  readonly layer: string;
  readonly units: number;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Output units of a TF.js layers `modelTopology` ({class_name, config} or {model_config: {...}}) or a Keras config. */
export function layersOutputUnits(topology: unknown): OutputUnits | null {
  if (!isObject(topology)) return null;
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  return modelUnits(model, 0);
}

/** Output units of a graph model from its signature (top level or userDefinedMetadata), when it has one output. */
export function graphOutputUnits(modelJson: unknown): OutputUnits | null {
  if (!isObject(modelJson)) return null;
  const meta = isObject(modelJson.userDefinedMetadata) ? modelJson.userDefinedMetadata : {};
  const signature = [modelJson.signature, meta.signature].find(isObject) ?? null;
  const outputs = signature && isObject(signature.outputs) ? Object.entries(signature.outputs) : [];
  if (outputs.length !== 1) return null;
  const [name, output] = outputs[0];
  const shape = isObject(output) && isObject(output.tensorShape) ? output.tensorShape : {};
  const dims = Array.isArray(shape.dim) ? shape.dim : [];
  const last = dims.length >= 2 && isObject(dims[dims.length - 1]) ? Number((dims[dims.length - 1] as Json).size) : NaN;
  return Number.isInteger(last) && last > 0 ? { layer: name, units: last } : null;
}

function modelUnits(model: Json, depth: number): OutputUnits | null {
  if (depth > 8 || !isObject(model)) return null;
  const config = model.config;
  const list = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : [];
  const layers = list.filter(isObject);
  if (layers.length === 0) return null;
  if (model.class_name === 'Sequential' || !isObject(config) || !Array.isArray(config.output_layers)) {
    for (let i = layers.length - 1; i >= 0; i--) {
      const found = layerUnits(layers[i], depth);
      if (found !== 'pass') return found;
    }
    return null;
  }
  // Functional: follow the one output back through its inbound nodes.
  if (config.output_layers.length !== 1 || !Array.isArray(config.output_layers[0])) return null;
  const byName = new Map(layers.map((layer) => [layerName(layer), layer]));
  let current = byName.get(String(config.output_layers[0][0]));
  for (let steps = 0; current && steps < layers.length; steps++) {
    const found = layerUnits(current, depth);
    if (found !== 'pass') return found;
    current = byName.get(firstInbound(current) ?? '');
  }
  return null;
}

/** A layer's units, 'pass' when it keeps its input's width, null when unknown. */
function layerUnits(layer: Json, depth: number): OutputUnits | 'pass' | null {
  const className = String(layer.class_name ?? '');
  const config = isObject(layer.config) ? layer.config : {};
  if (className === 'Dense') {
    return Number.isInteger(config.units) ? { layer: layerName(layer), units: config.units as number } : null;
  }
  if (PASS_THROUGH.has(className)) return 'pass';
  if (MODEL_CLASSES.has(className)) return modelUnits(layer, depth + 1);
  return null;
}

const layerName = (layer: Json) => String(layer.name ?? (isObject(layer.config) ? layer.config.name : '') ?? '');

/** The first input layer's name from Keras 2 `inbound_nodes` ([[["name", 0, 0, {}]]]) or Keras 3-style nodes. */
function firstInbound(layer: Json): string | null {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return null;
  const node = nodes[0];
  if (Array.isArray(node) && Array.isArray(node[0])) return String(node[0][0]);
  if (isObject(node) && Array.isArray(node.args)) {
    const arg = node.args[0];
    const history = isObject(arg) && isObject(arg.config) ? arg.config.keras_history : null;
    return Array.isArray(history) ? String(history[0]) : null;
  }
  return null;
}
