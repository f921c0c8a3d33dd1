// Graph edits on Keras 2 style model configs (what TF.js layers reads): dropping a layer and rewiring its
// consumers, splicing in replacement layers, and turning a Sequential into a Functional when a replacement
// branches. Node references are Keras 2's `[layer, nodeIndex, tensorIndex, kwargs?]`.

export type Json = Record<string, unknown>;
/** `[layerName, nodeIndex, tensorIndex]` plus the call kwargs Keras 2 keeps on the first input. */
export type Ref = [string, number, number, Json?];

export const MODEL_CLASSES: ReadonlySet<string> = new Set(['Sequential', 'Model', 'Functional']);

export const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
export const isModelEntry = (entry: Json) => MODEL_CLASSES.has(String(entry.class_name));

/** A layer's name: in its config, or (Keras 3 Functional entries, subclassed classes) one level above it. */
export function layerName(entry: Json): string {
  const config = entry.config;
  const inner = isObject(config) ? config.name : undefined;
  return typeof inner === 'string' && inner ? inner : typeof entry.name === 'string' ? entry.name : '';
}

/** The layers of a model entry (old Keras 2 Sequential configs are a bare list). */
export function modelLayers(entry: Json): Json[] {
  const config = entry.config;
  if (Array.isArray(config)) return config as Json[];
  return isObject(config) && Array.isArray(config.layers) ? (config.layers as Json[]) : [];
}

/** A model entry whose config is an object with `layers` (normalises the old bare-list Sequential). */
export function normaliseModel(entry: Json): Json {
  if (!Array.isArray(entry.config)) return entry;
  return { ...entry, config: { name: 'sequential', layers: entry.config } };
}

/**
 * A replacement layer: its class, its config (with its name) and where each input comes from: `{ in: k }` is the
 * k-th input of the replaced layer's node, `{ layer: j }` the output of the j-th replacement layer.
 */
export interface NewLayer {
  readonly class_name: string;
  readonly config: Json;
  readonly inputs: readonly Wire[];
}

/** Where a replacement layer's input comes from (`ref`: a tensor named in the call's kwargs, as TFOpLambda has). */
export type Wire = { readonly in: number } | { readonly layer: number } | { readonly ref: Ref };

/** True when the layers form a chain from the replaced layer's single input (they can sit in a Sequential). */
export function isChain(layers: readonly NewLayer[]): boolean {
  return layers.every((layer, index) => {
    const [wire] = layer.inputs;
    if (layer.inputs.length !== 1) return false;
    return index === 0 ? 'in' in wire && wire.in === 0 : 'layer' in wire && wire.layer === index - 1;
  });
}

/** What to do with one layer of a model. */
export type Edit =
  | { readonly kind: 'keep'; readonly entry: Json }
  | { readonly kind: 'drop' }
  | { readonly kind: 'replace'; readonly layers: readonly NewLayer[] };

const SHAPE_KEYS = ['batch_input_shape', 'dtype'] as const;

/** Applies edits (one per layer, same order) to a Sequential's layer list; every replacement must be a chain. */
export function editSequential(entry: Json, edits: readonly Edit[]): Json[] {
  const layers = modelLayers(entry);
  const out: Json[] = [];
  let carried: Json | undefined; // the input shape of a dropped or replaced first layer moves to what follows it
  const place = (layer: Json) => {
    if (carried && isObject(layer.config) && layer.config.batch_input_shape === undefined) {
      layer = { ...layer, config: { ...layer.config, ...carried } };
    }
    carried = undefined;
    out.push(layer);
  };
  layers.forEach((layer, index) => {
    const edit = edits[index];
    const shape = out.length === 0 ? pickShape(layer) : undefined;
    if (edit.kind === 'keep') {
      place(edit.entry);
      return;
    }
    if (shape) carried = shape;
    if (edit.kind !== 'replace') return;
    for (const added of edit.layers) place({ class_name: added.class_name, config: added.config });
  });
  return out;
}

function pickShape(layer: Json): Json | undefined {
  const config = layer.config;
  if (!isObject(config) || config.batch_input_shape === undefined) return undefined;
  if (layer.class_name === 'InputLayer') return undefined;
  return Object.fromEntries(SHAPE_KEYS.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]));
}

const refKey = (name: string, node: number, tensor: number) => `${name}\u0000${node}\u0000${tensor}`;

/**
 * Applies edits to a Functional's layers and returns its new config. A dropped layer's consumers are wired to its
 * input; a replaced layer's node i becomes node i of each replacement layer. Nested models have node 0 inside, so
 * their outer calls are nodes 1, 2, ... (as Keras 2 and TF.js count them).
 */
export function editFunctional(config: Json, edits: readonly Edit[]): Json {
  const layers = (config.layers as Json[] | undefined) ?? [];
  const moved = new Map<string, Ref>();
  const resolve = (ref: Ref): Ref => {
    let current = ref;
    for (let hops = 0; hops < 10_000; hops++) {
      const next = moved.get(refKey(current[0], current[1], current[2]));
      // a replacement that keeps the layer's name resolves to itself
      const same = next && next[0] === current[0] && next[1] === current[1] && next[2] === current[2];
      if (!next || same) return ref.length > 3 ? [current[0], current[1], current[2], ref[3]] : strip(current);
      current = next;
    }
    throw new Error('convert: a cycle of dropped layers');
  };
  const out: Json[] = [];
  layers.forEach((layer, index) => {
    const edit = edits[index];
    const name = layerName(layer);
    const nodes = inboundNodes(layer);
    const offset = isModelEntry(layer) ? 1 : 0;
    if (edit.kind === 'keep') {
      out.push({ ...edit.entry, inbound_nodes: nodes.map((node) => node.map(resolve)) });
      return;
    }
    if (edit.kind === 'drop') {
      nodes.forEach((node, nodeIndex) => {
        if (node[0]) moved.set(refKey(name, nodeIndex + offset, 0), strip(resolve(node[0])));
      });
      return;
    }
    const names = edit.layers.map((added) => String(added.config.name));
    edit.layers.forEach((added) => {
      const addedNodes = nodes.map((node, nodeIndex) =>
        added.inputs.map((source): Ref => {
          if ('layer' in source) return [names[source.layer], nodeIndex, 0, {}];
          if ('ref' in source) return withKwargs(resolve(source.ref));
          const input = node[source.in];
          if (!input) throw new Error(`convert: layer ${name} has no input ${source.in}`);
          return withKwargs(resolve(input));
        }),
      );
      const { class_name: className, config: addedConfig } = added;
      out.push({ class_name: className, name: addedConfig.name, config: addedConfig, inbound_nodes: addedNodes });
    });
    const last = names[names.length - 1];
    nodes.forEach((_, nodeIndex) => moved.set(refKey(name, nodeIndex + offset, 0), [last, nodeIndex, 0]));
  });
  const outputs = asRefList(config.output_layers).map((ref) => strip(resolve(ref)));
  return { ...config, layers: out, output_layers: outputs };
}

const strip = (ref: Ref): Ref => [ref[0], ref[1], ref[2]];
const withKwargs = (ref: Ref): Ref => [ref[0], ref[1], ref[2], {}];

/** The inbound nodes of a Functional layer entry, each a list of refs. */
export function inboundNodes(layer: Json): Ref[][] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => (Array.isArray(node) ? (node as Ref[]) : []));
}

/** `input_layers`/`output_layers` as a list of refs (Keras 3 writes a single ref bare). */
export function asRefList(value: unknown): Ref[] {
  if (!Array.isArray(value)) return [];
  return (typeof value[0] === 'string' ? [value] : value) as Ref[];
}

/**
 * Turns a Sequential into an equivalent Functional (`Model`), so a replacement may branch. Needs the input shape:
 * an InputLayer first, or `batch_input_shape` on the first layer (what Keras writes for a built Sequential).
 */
export function sequentialToFunctional(entry: Json): Json | undefined {
  const layers = modelLayers(entry);
  const first = layers[0];
  if (!first) return undefined;
  const name = isObject(entry.config) ? String(entry.config.name ?? 'sequential') : 'sequential';
  let input: Json;
  let rest: Json[];
  if (first.class_name === 'InputLayer') {
    input = first;
    rest = layers.slice(1);
  } else {
    const config = first.config as Json;
    if (!Array.isArray(config.batch_input_shape)) return undefined;
    const shape = config.batch_input_shape;
    const dtype = config.dtype ?? 'float32';
    const inputConfig = { name: `${layerName(first)}_input`, batch_input_shape: shape, dtype, sparse: false };
    input = { class_name: 'InputLayer', config: inputConfig };
    const { batch_input_shape: _shape, ...inner } = config;
    rest = [{ ...first, config: inner }, ...layers.slice(1)];
  }
  const inputName = layerName(input);
  const out: Json[] = [{ ...input, name: inputName, inbound_nodes: [] }];
  let previous: Ref = [inputName, 0, 0];
  for (const layer of rest) {
    const layerId = layerName(layer);
    out.push({ ...layer, name: layerId, inbound_nodes: [[[...previous, {}]]] });
    previous = [layerId, isModelEntry(layer) ? 1 : 0, 0];
  }
  const modelConfig = { name, layers: out, input_layers: [[inputName, 0, 0]], output_layers: [previous] };
  return { class_name: 'Model', config: modelConfig };
}
