// Rules for the layer classes the table marks rewritten or custom (layer-classes.ts), and the options of
// as-is classes that TF.js would silently ignore.
import { isObject, layerName, type Json, type NewLayer } from './keras-graph.js';
import { subtractLayers } from './rewrite-ops.js';
import { refuse, type LayerContext, type Outcome, type TensorValue } from './rewrite-types.js';

const ADVICE = 'replace it with layers from the table in docs/convert.md and save the model again';
/** Keras's backend.epsilon(), the floor Normalization puts under sqrt(variance). */
const KERAS_EPSILON = 1e-7;
const plain = (name: string, extra: Json = {}) => ({ name, trainable: false, dtype: 'float32', ...extra });
const one = (className: string, config: Json): NewLayer[] => [{ class_name: className, config, inputs: [{ in: 0 }] }];

/** a - b: Add of a and Rescaling(-1) of b. */
export function rewriteSubtract(entry: Json, ctx: LayerContext): Outcome {
  const name = layerName(entry);
  if (ctx.nodes.length === 0) return refuse('Subtract', name, 'has no inputs', ADVICE);
  if (ctx.nodes.some((node) => node.length !== 2)) return refuse('Subtract', name, 'needs exactly two inputs', ADVICE);
  const layers = subtractLayers(name, { in: 0 }, { in: 1 });
  return { kind: 'replace', layers, note: `${name}: Subtract rewritten as Add of a negation` };
}

const flat = (value: unknown): number[] => {
  if (Array.isArray(value)) return value.flatMap(flat);
  return typeof value === 'number' ? [value] : [];
};

/** Normalization's mean and variance: in its config (given to the constructor) or stored (adapt()). */
function statistics(config: Json, ctx: LayerContext): { mean: number[]; variance: number[] } | undefined {
  if (config.mean !== undefined && config.mean !== null) {
    return { mean: flat(config.mean), variance: flat(config.variance) };
  }
  const stored = ctx.stored();
  const find = (key: string) => stored.find((weight) => weight.name.replace(/:\d+$/, '').split('/').pop() === key);
  const mean = find('mean') ?? stored[0];
  const variance = find('variance') ?? stored[1];
  return mean && variance ? { mean: Array.from(mean.values), variance: Array.from(variance.values) } : undefined;
}

/**
 * Normalization computes (x - mean) / max(sqrt(variance), 1e-7) (invert: mean + x * max(...)); BatchNormalization
 * with epsilon 0 computes (x - moving_mean) * rsqrt(moving_variance) * gamma + beta, so moving_variance =
 * max(sqrt(variance), 1e-7)² gives the same values to float rounding.
 */
export function rewriteNormalization(entry: Json, ctx: LayerContext): Outcome {
  const name = layerName(entry);
  const config = entry.config as Json;
  const axes = config.axis === null || config.axis === undefined ? [] : [config.axis].flat();
  if (axes.length > 1) {
    return refuse('Normalization', name, `normalises over ${axes.length} axes (BatchNormalization has one)`, ADVICE);
  }
  const found = statistics(config, ctx);
  if (!found) return refuse('Normalization', name, 'has no stored mean and variance (was adapt() run?)', ADVICE);
  let { mean, variance } = found;
  if (mean.length !== variance.length || mean.length === 0) {
    return refuse('Normalization', name, 'has mean and variance of different sizes', ADVICE);
  }
  let axis = axes.length === 0 ? -1 : Number(axes[0]);
  if (mean.length === 1) {
    // one statistic for every element: repeat it over the channels, whose count the probe gives
    if (!ctx.inputShape) return { kind: 'probe' };
    const channels = ctx.inputShape[ctx.inputShape.length - 1];
    if (typeof channels !== 'number') {
      return refuse('Normalization', name, 'has an input whose last axis size is not known', ADVICE);
    }
    mean = Array(channels).fill(mean[0]);
    variance = Array(channels).fill(variance[0]);
    axis = -1;
  }
  const size = mean.length;
  const stdev = variance.map((v) => Math.max(Math.sqrt(v), KERAS_EPSILON));
  const tensor = (key: string, values: Float32Array): TensorValue => ({ name: key, shape: [size], values });
  const ones = new Float32Array(size).fill(1);
  const zeros = new Float32Array(size);
  const weights: TensorValue[] =
    config.invert === true
      ? [
          tensor('gamma', Float32Array.from(stdev)),
          tensor('beta', Float32Array.from(mean)),
          tensor('moving_mean', zeros),
          tensor('moving_variance', ones),
        ]
      : [
          tensor('gamma', ones),
          tensor('beta', zeros),
          tensor('moving_mean', Float32Array.from(mean)),
          tensor('moving_variance', Float32Array.from(stdev.map((s) => s * s))),
        ];
  const init = (className: string) => ({ class_name: className, config: {} });
  const bn = plain(name, {
    axis,
    epsilon: 0,
    momentum: 0.99,
    center: true,
    scale: true,
    beta_initializer: init('Zeros'),
    gamma_initializer: init('Ones'),
    moving_mean_initializer: init('Zeros'),
    moving_variance_initializer: init('Ones'),
  });
  return {
    kind: 'replace',
    layers: one('BatchNormalization', bn),
    note: `${name}: Normalization rewritten as BatchNormalization`,
    weights: { [name]: weights },
  };
}

/** The custom layer doing Keras's resize, after smart_resize's crop (Resizing, RandomCrop, CenterCrop fallback). */
function resizingLayer(name: string, config: Json, cropToAspectRatio: boolean): Json {
  const interpolation = config.interpolation ?? 'bilinear';
  const { height, width } = config;
  return plain(name, { height, width, interpolation, crop_to_aspect_ratio: cropToAspectRatio });
}

const CUSTOM_NOTE = 'the custom layer LambdaMlResizing (registered by the handler)';
const hwOf = (shape: readonly (number | null)[] | undefined) =>
  shape?.length === 4 ? [shape[1], shape[2]] : [null, null];

/**
 * Resizing (and Keras 2's RandomCrop, which centre-crops and resizes at inference): LambdaMlResizing, or nothing
 * when the input already has the target size.
 */
export function rewriteResizing(entry: Json, ctx: LayerContext): Outcome {
  const name = layerName(entry);
  const className = String(entry.class_name);
  const config = entry.config as Json;
  const interpolation = String(config.interpolation ?? 'bilinear');
  const crop = className === 'RandomCrop' || config.crop_to_aspect_ratio === true;
  if (!['bilinear', 'nearest'].includes(interpolation)) {
    return refuse(className, name, `interpolation ${interpolation} (LambdaMlResizing does bilinear, nearest)`, ADVICE);
  }
  const unsupported =
    ['pad_to_aspect_ratio', 'antialias'].find((key) => config[key] === true) ??
    (config.data_format === 'channels_first' ? 'channels_first' : undefined);
  if (unsupported) return refuse(className, name, `${unsupported} is not supported`, ADVICE);
  const height = Number(config.height);
  const width = Number(config.width);
  if (!ctx.inputShape) return { kind: 'probe', outputHw: [height, width] };
  const [h, w] = hwOf(ctx.inputShape);
  if (h === height && w === width) {
    return { kind: 'drop', note: `${name}: ${className} dropped (the input is already ${height}x${width})` };
  }
  const layers = one('LambdaMlResizing', resizingLayer(name, config, crop));
  return { kind: 'replace', layers, note: `${name}: ${className} as ${CUSTOM_NOTE}` };
}

/** CenterCrop: Cropping2D when the input size is known and at least the crop (TF.js's own samples wrong pixels). */
export function rewriteCenterCrop(entry: Json, ctx: LayerContext): Outcome {
  const name = layerName(entry);
  const config = entry.config as Json;
  const height = Number(config.height);
  const width = Number(config.width);
  if (config.data_format === 'channels_first') {
    return refuse('CenterCrop', name, 'channels_first is not supported', ADVICE);
  }
  if (!ctx.inputShape) return { kind: 'probe', outputHw: [height, width] };
  const [h, w] = hwOf(ctx.inputShape);
  if (typeof h !== 'number' || typeof w !== 'number') {
    return refuse('CenterCrop', name, 'has an input whose height and width are not known', ADVICE);
  }
  if (h < height || w < width) {
    const layers = one('LambdaMlResizing', resizingLayer(name, { height, width }, true));
    return { kind: 'replace', layers, note: `${name}: CenterCrop of a smaller input resizes: ${CUSTOM_NOTE}` };
  }
  const top = Math.trunc((h - height) / 2);
  const left = Math.trunc((w - width) / 2);
  const cropping = [
    [top, h - height - top],
    [left, w - width - left],
  ];
  const layers = one('Cropping2D', plain(name, { cropping, data_format: 'channels_last' }));
  return { kind: 'replace', layers, note: `${name}: CenterCrop rewritten as Cropping2D` };
}

/** Options of as-is classes that change the result but that TF.js ignores: refuse rather than convert wrongly. */
export function checkOptions(entry: Json): Outcome | undefined {
  const name = layerName(entry);
  const className = String(entry.class_name);
  const config = isObject(entry.config) ? entry.config : {};
  const set = (key: string) => config[key] !== undefined && config[key] !== null;
  const nonZero = (key: string) => set(key) && Number(config[key]) !== 0;
  if (className === 'ReLU' && (nonZero('negative_slope') || nonZero('threshold'))) {
    const reason = "has a negative_slope or threshold, which TF.js's ReLU ignores";
    return refuse('ReLU', name, reason, 'use LeakyReLU, or a plain ReLU, and save the model again');
  }
  const isConv = /^(Conv[123]D|SeparableConv2D|Conv[23]DTranspose)$/.test(className);
  if (isConv && set('groups') && Number(config.groups) !== 1) {
    return refuse(className, name, `has groups=${String(config.groups)}, which TF.js ignores`, ADVICE);
  }
  if (className === 'ELU' && set('alpha') && Number(config.alpha) !== 1) {
    return refuse('ELU', name, `has alpha=${String(config.alpha)}; TF.js's ELU supports alpha 1 only`, ADVICE);
  }
  if ((className === 'GRU' || className === 'GRUCell') && config.reset_after === true) {
    const reason = "has reset_after=True (the TF 2 default); TF.js's GRU implements reset_after=False only";
    return refuse(className, name, reason, 'rebuild it with GRU(reset_after=False), retrain it, and save it again');
  }
  if (className === 'Dense' && set('lora_rank')) {
    return refuse('Dense', name, 'has LoRA weights (lora_rank)', 'merge them into the kernel and save again');
  }
  return undefined;
}
