// Elementwise ops a functional model calls on tensors: Keras 2 keeps them as TFOpLambda / SlicingOpLambda
// layers, Keras 3 as ops (keras3-config.ts gives both the same node form). What `preprocess_input` leaves
// (x / 127.5 - 1, x[..., ::-1], bias_add of the channel means) becomes Rescaling, Add, Multiply or Dense.
import { isObject, layerName, type Json, type NewLayer, type Ref, type Wire } from './keras-graph.js';
import { refuse, rescaling, type LayerContext, type Outcome } from './rewrite-types.js';

type OpKind = 'add' | 'sub' | 'mul' | 'div';

/** TFOpLambda `function` names (tf.keras writes `math.truediv` for `x / y`, `__operators__.add` for `x + y`). */
const TF_FUNCTIONS: Readonly<Record<string, OpKind>> = {
  'math.add': 'add',
  '__operators__.add': 'add',
  'math.subtract': 'sub',
  'math.multiply': 'mul',
  'math.truediv': 'div',
  'math.divide': 'div',
  'nn.bias_add': 'add',
};
const KERAS3_OPS: Readonly<Record<string, OpKind>> = {
  'ops.Add': 'add',
  'ops.Subtract': 'sub',
  'ops.Multiply': 'mul',
  'ops.TrueDivide': 'div',
  'ops.Divide': 'div',
};

const ADVICE = 'do it with built-in layers (Rescaling, Add, Multiply) or before calling the model, and save it again';
const CONSTANT = '_CONSTANT_VALUE';
const plain = (name: string, extra: Json = {}) => ({ name, trainable: false, dtype: 'float32', ...extra });

const isRef = (value: unknown): value is Ref =>
  Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'number' && typeof value[2] === 'number';

/** A number, or a flat list of numbers (per channel, broadcast along the last axis). */
function constantOf(value: unknown): number | number[] | undefined {
  if (typeof value === 'number') return value;
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (value.every((item) => typeof item === 'number')) return value as number[];
  return value.length === 1 ? constantOf(value[0]) : undefined;
}

const map = (value: number | number[], fn: (v: number) => number) => (Array.isArray(value) ? value.map(fn) : fn(value));
const rescale = (name: string, scale: number | number[], offset: number | number[], from: Wire): NewLayer[] => [
  { class_name: 'Rescaling', config: rescaling(name, scale, offset), inputs: [from] },
];

/** The op of a TFOpLambda or Keras 3 ops entry, with the label errors group it under. */
function opOf(entry: Json): { kind: OpKind | undefined; label: string } {
  const className = String(entry.class_name);
  if (className !== 'TFOpLambda') return { kind: KERAS3_OPS[className], label: className };
  const fn = String((entry.config as Json).function ?? '');
  return { kind: TF_FUNCTIONS[fn], label: `TFOpLambda tf.${fn}` };
}

/** Rewrites one elementwise op node into built-in layers. */
export function rewriteOp(entry: Json, ctx: LayerContext): Outcome {
  const name = layerName(entry);
  const { kind, label } = opOf(entry);
  if (!kind) return refuse(label, name, `${label.replace('TFOpLambda ', '')} has no TF.js layer`, ADVICE);
  if (ctx.nodes.length !== 1 || ctx.nodes[0].length !== 1) {
    return refuse(label, name, 'is called on several inputs or several times', ADVICE);
  }
  const first = ctx.nodes[0][0];
  const kwargs = isObject(first[3]) ? first[3] : {};
  const biasAdd = (entry.config as Json).function === 'nn.bias_add';
  const format = kwargs.data_format;
  if (biasAdd && format !== undefined && format !== null && format !== 'NHWC') {
    return refuse(label, name, `bias_add with data_format ${String(format)}`, ADVICE);
  }
  const other = biasAdd ? kwargs.bias : kwargs.y;
  const note = `${name}: ${label} rewritten`;
  if (first[0] !== CONSTANT) {
    const constant = constantOf(other);
    if (constant !== undefined) {
      const scale = kind === 'mul' ? constant : kind === 'div' ? map(constant, (v) => 1 / v) : 1;
      const offset = kind === 'add' ? constant : kind === 'sub' ? map(constant, (v) => -v) : 0;
      return { kind: 'replace', layers: rescale(name, scale, offset, { in: 0 }), note: `${note} as Rescaling` };
    }
    if (!isRef(other)) return refuse(label, name, 'has an operand that is neither a tensor nor a constant', ADVICE);
    return twoTensors(kind, name, label, { in: 0 }, { ref: [other[0], other[1], other[2]] }, note);
  }
  const constant = constantOf(first[2]);
  if (constant === undefined || !isRef(other)) return refuse(label, name, 'has no tensor operand', ADVICE);
  if (kind === 'div') return refuse(label, name, 'divides a constant by a tensor, which no TF.js layer does', ADVICE);
  const scale = kind === 'mul' ? constant : kind === 'sub' ? -1 : 1;
  const offset = kind === 'mul' ? 0 : constant;
  const layers = rescale(name, scale, offset, { ref: [other[0], other[1], other[2]] });
  return { kind: 'replace', layers, note: `${note} as Rescaling` };
}

function twoTensors(kind: OpKind, name: string, label: string, a: Wire, b: Wire, note: string): Outcome {
  const merge = (className: string): NewLayer[] => [{ class_name: className, config: plain(name), inputs: [a, b] }];
  if (kind === 'add') return { kind: 'replace', layers: merge('Add'), note: `${note} as Add` };
  if (kind === 'mul') return { kind: 'replace', layers: merge('Multiply'), note: `${note} as Multiply` };
  if (kind === 'sub') {
    return { kind: 'replace', layers: subtractLayers(name, a, b), note: `${note} as Add of a negation` };
  }
  return refuse(label, name, 'divides two tensors, which no TF.js layer does', ADVICE);
}

/** a - b as Add([a, Rescaling(-1)(b)]): negation is exact and IEEE subtraction is addition of the negation. */
export function subtractLayers(name: string, a: Wire, b: Wire): NewLayer[] {
  return [
    ...rescale(`${name}_negate`, -1, 0, b),
    { class_name: 'Add', config: plain(name), inputs: [a, { layer: 0 }] },
  ];
}

/** A slice_spec item: Keras 2 json encodes Ellipsis as {class_name: "__ellipsis__"}, slices as {start, stop, step}. */
const isEllipsis = (item: unknown) => isObject(item) && item.class_name === '__ellipsis__';
const isFull = (item: unknown, step: number | null) =>
  isObject(item) && item.start === null && item.stop === null && (item.step ?? null) === step;

/** x[..., ::-1] (and x[:, :, :, ::-1]): reverse the last axis, as caffe-style preprocess_input does for RGB -> BGR. */
export function rewriteSlice(entry: Json, ctx: LayerContext): Outcome {
  const name = layerName(entry);
  const label = 'SlicingOpLambda';
  const node = ctx.nodes[0];
  const kwargs = node && node.length === 1 && isObject(node[0][3]) ? node[0][3] : {};
  let spec = kwargs.slice_spec;
  if (isObject(spec) && spec.class_name === '__tuple__') spec = spec.items;
  const items: unknown[] = Array.isArray(spec) ? spec : [spec];
  const leading = items.slice(0, -1);
  const ellipsis = leading.length === 1 && isEllipsis(leading[0]);
  const full = leading.length > 0 && leading.every((item) => isFull(item, null));
  if (ctx.nodes.length !== 1 || !isFull(items[items.length - 1], -1) || !(ellipsis || full)) {
    const reason = `slice ${JSON.stringify(spec)} has no TF.js layer (only x[..., ::-1] is rewritten)`;
    return refuse(label, name, reason, ADVICE);
  }
  if (!ctx.inputShape) return { kind: 'probe' };
  const channels = ctx.inputShape[ctx.inputShape.length - 1];
  if (typeof channels !== 'number' || (!ellipsis && leading.length + 1 !== ctx.inputShape.length)) {
    return refuse(label, name, 'reverses an axis whose size is not known', ADVICE);
  }
  const kernel = new Float32Array(channels * channels);
  for (let row = 0; row < channels; row++) kernel[row * channels + (channels - 1 - row)] = 1;
  const zeros = { class_name: 'Zeros', config: {} };
  const config = plain(name, { units: channels, activation: 'linear', use_bias: false, kernel_initializer: zeros });
  return {
    kind: 'replace',
    layers: [{ class_name: 'Dense', config, inputs: [{ in: 0 }] }],
    note: `${name}: x[..., ::-1] rewritten as a Dense layer holding a permutation`,
    weights: { [name]: [{ name: 'kernel', shape: [channels, channels], values: kernel }] },
  };
}
