// Keras 3 writes configs TF.js layers 4.x cannot read (dtype policies, `batch_shape`, call-argument nodes).
// This rewrites them into the Keras 2 shape TF.js (and tfjs-converter's output) uses.

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Elementwise ops of keras/src/ops/numpy.py a Keras 3 functional model keeps as nodes (`x / 127.5`: TrueDivide). */
const OPS = new Set(['Add', 'Subtract', 'Multiply', 'Divide', 'TrueDivide']);

/**
 * True for a Keras 3 op node (not a layer): `.keras` files name its module (keras.src.ops.*); Keras 3 `.h5` files
 * drop modules, so an op is TrueDivide/Divide, or Add/Subtract/Multiply called with two arguments (the merge
 * layers of those names take one list).
 */
export function isKeras3Op(entry: Json): boolean {
  const module = entry.module;
  if (typeof module === 'string') return module.startsWith('keras.src.ops');
  const className = String(entry.class_name);
  if (!OPS.has(className)) return false;
  if (className === 'TrueDivide' || className === 'Divide') return true;
  const nodes = entry.inbound_nodes;
  const first = Array.isArray(nodes) ? nodes[0] : undefined;
  return isObject(first) && Array.isArray(first.args) && first.args.length === 2;
}

/** Translates a Keras 3 model entry (`.keras` config.json, Keras 3 `.h5` model_config) to a Keras 2 model_config. */
export function translateKeras3Config(entry: Json): Json {
  const className = String(entry.class_name);
  const op = isKeras3Op(entry);
  const out: Json = {
    class_name: op ? `ops.${className}` : className === 'Functional' ? 'Model' : className,
    config: op
      ? { name: (isObject(entry.config) && entry.config.name) || entry.name }
      : translateLayerConfig(className, entry.config),
  };
  if (entry.name !== undefined) out.name = entry.name;
  if (Array.isArray(entry.inbound_nodes)) {
    out.inbound_nodes = entry.inbound_nodes.map(op ? translateOpNode : translateNode).filter((node) => node.length > 0);
  }
  if (className === 'Functional' || className === 'Model') shiftSequentialRefs(out.config as Json);
  return out;
}

/** Keras 2 option names TF.js reads where Keras 3 renamed them. */
const RENAMED: Readonly<Record<string, Readonly<Record<string, string>>>> = { LeakyReLU: { negative_slope: 'alpha' } };

/**
 * Keras 3 counts a nested Sequential's calls from node 0 (it is not a Functional, so it has no node of its own);
 * Keras 2 and TF.js give every nested model an inner node 0, so its calls are nodes 1, 2, ...
 */
function shiftSequentialRefs(config: Json): void {
  const layers = Array.isArray(config.layers) ? (config.layers as Json[]) : [];
  const sequential = new Set(
    layers
      .filter((layer) => layer.class_name === 'Sequential')
      .map((layer) => String((layer.config as Json)?.name ?? layer.name)),
  );
  if (sequential.size === 0) return;
  const shift = (ref: unknown) => {
    if (Array.isArray(ref) && sequential.has(ref[0] as string) && typeof ref[1] === 'number') ref[1] += 1;
  };
  for (const layer of layers) {
    for (const node of (layer.inbound_nodes as unknown[][] | undefined) ?? []) {
      for (const ref of node) {
        shift(ref);
        const kwargs = (ref as unknown[])[3];
        if (isObject(kwargs)) shift(kwargs.y);
      }
    }
  }
  const outputs = config.output_layers;
  if (Array.isArray(outputs)) (typeof outputs[0] === 'string' ? [outputs] : outputs).forEach(shift);
}

function translateLayerConfig(className: string, config: unknown): unknown {
  if (!isObject(config)) return translateValue(config);
  const out: Json = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'layers' && Array.isArray(value))
      out.layers = value.map((layer) => translateKeras3Config(layer as Json));
    else if ((key === 'input_layers' || key === 'output_layers') && Array.isArray(value))
      out[key] = typeof value[0] === 'string' ? [value] : value;
    else if (key === 'batch_shape') out.batch_input_shape = value;
    else out[key] = translateValue(value);
  }
  if (className === 'InputLayer' && out.batch_input_shape === undefined && Array.isArray(out.shape))
    out.batch_input_shape = [null, ...(out.shape as unknown[])];
  for (const [from, to] of Object.entries(RENAMED[className] ?? {})) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
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
  if (typeof className === 'string' && 'config' in value)
    return { class_name: className, config: translateValue(value.config) };
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) out[key] = translateValue(inner);
  return out;
}

/**
 * A Keras 3 node `{args, kwargs}` holding `__keras_tensor__` objects -> Keras 2 `[[layer, node, tensor, kwargs], ...]`.
 */
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

const historyOf = (value: unknown): [string, number, number] | undefined => {
  if (!isObject(value) || value.class_name !== '__keras_tensor__' || !isObject(value.config)) return undefined;
  return value.config.keras_history as [string, number, number];
};

/**
 * An op node `{args: [a, b]}` -> the TFOpLambda form prepare-model.ts reads: `[[a, node, tensor, {y: b}]]`, or
 * `[["_CONSTANT_VALUE", -1, a, {y: b}]]` when the first operand is a constant.
 */
function translateOpNode(node: unknown): unknown[] {
  if (!isObject(node) || !Array.isArray(node.args)) return [];
  const [a, b] = node.args as unknown[];
  const y = historyOf(b) ?? b;
  const first = historyOf(a);
  return [first ? [...first, { y }] : ['_CONSTANT_VALUE', -1, a, { y }]];
}

function stripTensors(kwargs: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (!(isObject(value) && value.class_name === '__keras_tensor__')) out[key] = value;
  }
  return out;
}

/**
 * Keras's `naming.to_snake_case`, which names layer groups in `model.weights.h5` (`Conv2D` -> `conv2d`, `ReLU` ->
 * `re_lu`).
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
