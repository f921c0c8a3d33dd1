// Keras 3 writes configs TF.js layers 4.x cannot read (dtype policies, `batch_shape`, call-argument nodes).
// This rewrites them into the Keras 2 shape TF.js (and tfjs-converter's output) uses.

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Translates a Keras 3 model entry (`config.json` of a `.keras` archive) into a Keras 2 `model_config`. */
export function translateKeras3Config(entry: Json): Json {
  const className = String(entry.class_name);
  const out: Json = { class_name: className === 'Functional' ? 'Model' : className, config: translateLayerConfig(className, entry.config) };
  if (entry.name !== undefined) out.name = entry.name;
  if (Array.isArray(entry.inbound_nodes)) out.inbound_nodes = entry.inbound_nodes.map(translateNode).filter((node) => node.length > 0);
  return out;
}

function translateLayerConfig(className: string, config: unknown): unknown {
  if (!isObject(config)) return translateValue(config);
  const out: Json = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'layers' && Array.isArray(value)) out.layers = value.map((layer) => translateKeras3Config(layer as Json));
    else if ((key === 'input_layers' || key === 'output_layers') && Array.isArray(value)) out[key] = typeof value[0] === 'string' ? [value] : value;
    else if (key === 'batch_shape') out.batch_input_shape = value;
    else out[key] = translateValue(value);
  }
  if (className === 'InputLayer' && out.batch_input_shape === undefined && Array.isArray(out.shape)) out.batch_input_shape = [null, ...(out.shape as unknown[])];
  return out;
}

/** Dtype policies become their dtype name; serialised objects keep only class_name and config. */
function translateValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(translateValue);
  if (!isObject(value)) return value;
  const className = value.class_name;
  if (typeof className === 'string' && /DTypePolicy$/.test(className) && isObject(value.config)) {
    const name = String(value.config.name);
    return name.startsWith('mixed_') ? 'float32' : name; // TF.js computes in float32 only
  }
  if (typeof className === 'string' && 'config' in value) return { class_name: className, config: translateValue(value.config) };
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) out[key] = translateValue(inner);
  return out;
}

/** A Keras 3 node `{args, kwargs}` holding `__keras_tensor__` objects -> Keras 2 `[[layer, node, tensor, kwargs], ...]`. */
function translateNode(node: unknown): unknown[] {
  if (Array.isArray(node)) return node; // already Keras 2 style
  if (!isObject(node)) return [];
  const kwargs = isObject(node.kwargs) ? stripTensors(node.kwargs) : {};
  const tensors: unknown[] = [];
  const collect = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (isObject(value) && value.class_name === '__keras_tensor__' && isObject(value.config)) {
      const [layer, nodeIndex, tensorIndex] = value.config.keras_history as [string, number, number];
      tensors.push([layer, nodeIndex, tensorIndex, kwargs]);
    }
  };
  collect(node.args);
  return tensors;
}

function stripTensors(kwargs: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (!(isObject(value) && value.class_name === '__keras_tensor__')) out[key] = value;
  }
  return out;
}

/** Keras's `naming.to_snake_case`, which names layer groups in `model.weights.h5` (`Conv2D` -> `conv2d`, `ReLU` -> `re_lu`). */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
