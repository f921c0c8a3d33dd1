// Activations by name (`activation=` of a layer, or an Activation layer), per the activation table in
// layer-classes.ts. Keras 3's silu, hard_sigmoid, hard_silu and leaky_relu become built-in TF.js layers.
import { findActivation } from './layer-classes.js';
import { isObject, layerName, type Json, type NewLayer, type Wire } from './keras-graph.js';
import { refuse, rescaling, type LayerContext, type Outcome } from './rewrite-types.js';

/** Recurrent layers (and cells) whose `activation`/`recurrent_activation` run inside the cell: only renames apply. */
const RECURRENT = new Set([
  'SimpleRNN',
  'LSTM',
  'GRU',
  'ConvLSTM2D',
  'SimpleRNNCell',
  'LSTMCell',
  'GRUCell',
  'Bidirectional',
  'TimeDistributed',
]);

const ADVICE = 'use an activation from the table in docs/convert.md and save the model again';
const PREVIOUS: Wire = { layer: -1 }; // the layer before, resolved to an index by activationLayers
const plain = (name: string, extra: Json = {}) => ({ name, trainable: false, dtype: 'float32', ...extra });

/** hard_sigmoid as Keras 3 computes it, relu6(x + 3) / 6, of `from`; the last layer is named `name`. */
function hardSigmoid(name: string, from: Wire): NewLayer[] {
  return [
    { class_name: 'Rescaling', config: rescaling(`${name}_plus3`, 1, 3), inputs: [from] },
    { class_name: 'ReLU', config: plain(`${name}_relu6`, { max_value: 6 }), inputs: [PREVIOUS] },
    { class_name: 'Rescaling', config: rescaling(`${name}_div6`, 1 / 6, 0), inputs: [PREVIOUS] },
  ];
}

/** Layers computing activation `kind` of `from`, the last one named `name`; `base` is the index of the first one. */
function activationLayers(kind: string, name: string, base: number, from: Wire): NewLayer[] {
  let layers: NewLayer[];
  if (kind === 'leaky_relu') {
    layers = [{ class_name: 'LeakyReLU', config: plain(name, { alpha: 0.2 }), inputs: [from] }];
  } else if (kind === 'hard_sigmoid') {
    layers = hardSigmoid(name, from);
    const last = layers[layers.length - 1];
    layers[layers.length - 1] = { ...last, config: { ...last.config, name } };
  } else {
    layers = [...hardSigmoid(name, from), { class_name: 'Multiply', config: plain(name), inputs: [from, PREVIOUS] }];
  }
  return layers.map((layer, index) => ({
    ...layer,
    inputs: layer.inputs.map((wire) => (wire === PREVIOUS ? { layer: base + index - 1 } : wire)),
  }));
}

/** The activation name of a config value: Keras writes a string, or {class_name, config: name} when wrapped. */
function activationName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return isObject(value) && typeof value.config === 'string' ? value.config : undefined;
}

/**
 * Decides a layer's activation: as it is, renamed (silu -> swish), split into built-in layers after the layer
 * (which then computes `linear`), or refused. `entry` is the layer as it will be kept otherwise.
 */
export function applyActivation(entry: Json, ctx: LayerContext): Outcome {
  const config = entry.config as Json;
  const className = String(entry.class_name);
  const name = layerName(entry);
  const keys = ['activation', 'recurrent_activation'].filter((key) => key in config && config[key] !== null);
  let next = config;
  const renamed: string[] = [];
  for (const key of keys) {
    const value = config[key];
    const activation = activationName(value);
    if (activation === undefined) {
      const group = `activation ${JSON.stringify(value).slice(0, 40)}`;
      return refuse(group, name, 'is a custom activation function (Python code)', ADVICE);
    }
    const group = `activation ${activation}`;
    const known = findActivation(activation, ctx.major);
    if (!known) return refuse(group, name, `${activation} is not an activation TF.js knows (custom?)`, ADVICE);
    if (known.status === 'refused') return refuse(group, name, known.how, ADVICE);
    if (known.status === 'as-is') continue;
    if (activation === 'silu') {
      next = { ...next, [key]: 'swish' };
      renamed.push(`${key} silu -> swish`);
      continue;
    }
    if (key !== 'activation' || RECURRENT.has(className)) {
      const reason = `${key} ${activation} runs inside a ${className}, where it cannot be split out`;
      return refuse(group, name, reason, ADVICE);
    }
    const kind = activation === 'hard_swish' ? 'hard_silu' : activation;
    if (className === 'Activation') {
      const note = `${name}: activation ${activation} rewritten into built-in layers`;
      return { kind: 'replace', layers: activationLayers(kind, name, 0, { in: 0 }), note };
    }
    const linearConfig = { ...next, activation: 'linear' };
    const linear: NewLayer = { class_name: className, config: linearConfig, inputs: inputsOf(ctx) };
    return {
      kind: 'replace',
      layers: [linear, ...activationLayers(kind, `${name}_${kind}`, 1, { layer: 0 })],
      note: `${name}: activation ${activation} split into built-in layers after it`,
    };
  }
  if (renamed.length === 0) return { kind: 'keep', entry };
  return { kind: 'keep', entry: { ...entry, config: next }, note: `${name}: ${renamed.join(', ')}` };
}

/** One wire per input of the layer's (first) node; a Sequential layer has one. */
function inputsOf(ctx: LayerContext): NewLayer['inputs'] {
  const count = Math.max(1, ctx.nodes[0]?.length ?? 1);
  return Array.from({ length: count }, (_, index) => ({ in: index }));
}
