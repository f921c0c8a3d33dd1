/**
 * What `init --model` learns from a model's own metadata, without loading weights: the input's width and height and
 * the number of classes (src/scan/model-topology.ts, the reader budget checks labels with). Keras 2 style configs
 * (a TF.js layers model.json's topology, a Keras file's model_config) and TF.js graph model signatures.
 */
import { graphOutputUnits, layersOutputUnits } from '../../../scan/model-topology.js';

type Json = Record<string, unknown>;

/** Sizes the model declares; null where it leaves them open (a `None` dimension) or says nothing. */
export interface ModelShape {
  readonly width: number | null;
  readonly height: number | null;
  readonly outputUnits: number | null;
}

const NESTED_MODELS = new Set(['Sequential', 'Model', 'Functional']);

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const layerName = (entry: Json) => String(entry.name ?? (entry.config as Json | undefined)?.name ?? '');

/** The shape of a Keras model config, `{ class_name, config }` or a TF.js topology `{ model_config: ... }`. */
export function kerasShape(topology: unknown): ModelShape {
  const model = isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  if (!isObject(model)) return { width: null, height: null, outputUnits: null };
  const layers = layersOf(model);
  const config = isObject(model.config) ? model.config : {};
  const inputName = firstName(config.input_layers);
  const input = layers.find((layer) => inputName !== null && layerName(layer) === inputName) ?? layers[0];
  const [height, width] = input ? imageSize(inputShapeOf(input)) : [null, null];
  return { width, height, outputUnits: layersOutputUnits(model)?.units ?? null };
}

/** The shape of a TF.js graph model.json from its `signature` (inputs and outputs with their tensor shapes). */
export function graphShape(modelJson: Json): ModelShape {
  const topology = isObject(modelJson.modelTopology) ? modelJson.modelTopology : {};
  const meta = isObject(modelJson.userDefinedMetadata) ? modelJson.userDefinedMetadata : {};
  const signature = [modelJson.signature, meta.signature, topology.signature].find(isObject) ?? {};
  const dims = (group: unknown): (number | null)[] | null => {
    const first = isObject(group) ? Object.values(group)[0] : undefined;
    const dim = isObject(first) && isObject(first.tensorShape) ? first.tensorShape.dim : undefined;
    if (!Array.isArray(dim)) return null;
    return dim.map((d) => {
      const size = Number(isObject(d) ? d.size : NaN);
      return Number.isInteger(size) && size > 0 ? size : null;
    });
  };
  // Without a signature, the first Placeholder node's shape is the input's.
  const nodes: unknown[] = Array.isArray(topology.node) ? topology.node : [];
  const placeholder = nodes.find((n) => isObject(n) && n.op === 'Placeholder');
  const attrShape = isObject(placeholder) && isObject(placeholder.attr) ? placeholder.attr.shape : undefined;
  const placeholderShape = isObject(attrShape) ? attrShape.shape : undefined;
  const inputs = isObject(signature.inputs) ? signature.inputs : { input: { tensorShape: placeholderShape } };
  const [height, width] = imageSize(dims(inputs));
  return { width, height, outputUnits: graphOutputUnits(modelJson)?.units ?? null };
}

function layersOf(model: Json): Json[] {
  const config = model.config;
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** `[["name", 0, 0]]` (Keras 2) or `["name", 0, 0]` (one input, Keras 3) -> "name". */
function firstName(value: unknown): string | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const first = Array.isArray(value[0]) ? value[0][0] : value[0];
  return typeof first === 'string' ? first : null;
}

function inputShapeOf(layer: Json): unknown {
  const config = isObject(layer.config) ? layer.config : {};
  if (NESTED_MODELS.has(String(layer.class_name))) {
    const inner = layersOf(layer)[0];
    return config.batch_input_shape ?? (inner ? inputShapeOf(inner) : undefined);
  }
  if (Array.isArray(config.batch_input_shape)) return config.batch_input_shape;
  if (Array.isArray(config.batch_shape)) return config.batch_shape;
  if (Array.isArray(config.input_shape)) return [null, ...config.input_shape];
  return undefined;
}

/** `[batch, height, width, channels]` (channels last, 1, 3 or 4 of them) -> [height, width]. */
function imageSize(shape: unknown): [number | null, number | null] {
  if (!Array.isArray(shape) || shape.length !== 4) return [null, null];
  const [, h, w, c] = shape.map((d) => (typeof d === 'number' && d > 0 ? d : null));
  if (c !== null && ![1, 3, 4].includes(c)) return [null, null];
  return [h, w];
}
