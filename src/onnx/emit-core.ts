// Dense, normalisation, reshaping, merging and activation layers. Per-channel constants are shaped so that they
// broadcast along the value's channel axis in whichever layout it is (NCHW after a Conv, Keras order otherwise).
import { activate, activationProblem } from './activations.js';
import { float, int, ints, physicalAxis, type Graph, type Value } from './graph.js';
import { needWeight, output, type Check, type Emit, type LayerCall } from './emit-types.js';

/** A constant of `values` along Keras axis `axis` of `x` (ones on every other axis, batch included). */
function alongAxis(g: Graph, base: string, x: Value, axis: number, values: ArrayLike<number>): string {
  if (values.length === 1) return g.scalar(values[0]);
  const rank = x.shape.length;
  const dims = Array.from({ length: rank }, (_, index) => (index === physicalAxis(x, axis) ? values.length : 1));
  return g.floats(base, values, dims);
}

export const emitDense: Emit = (g, call, [input]) => {
  const x = g.toKeras(input);
  const kernel = needWeight(call, 'kernel');
  const w = g.floats(`${call.name}/kernel`, kernel.values, kernel.shape);
  const b = call.config.useBias === false ? undefined : needWeight(call, 'bias');
  const biasName = b ? g.floats(`${call.name}/bias`, b.values, b.shape) : undefined;
  let name: string;
  if (x.shape.length === 2) {
    name = g.op('Gemm', call.name, biasName ? [x.name, w, biasName] : [x.name, w]);
  } else {
    // Dense on a rank > 2 input multiplies the last axis, as MatMul does
    const product = g.op('MatMul', biasName ? `${call.name}_matmul` : call.name, [x.name, w]);
    name = biasName ? g.op('Add', call.name, [product, biasName]) : product;
  }
  const [out] = output(call, name, 'keras');
  return [activate(g, `${call.name}_${String(call.config.activation)}`, out, call.config.activation)];
};

/**
 * BatchNormalization as x * scale + shift, scale = gamma / sqrt(variance + epsilon), shift = beta - mean * scale
 * (fold.ts folds it into the Conv before it when the Conv's output has no other use).
 */
export const emitBatchNormalization: Emit = (g, call, [x]) => {
  const mean = needWeight(call, 'moving_mean').values;
  const variance = needWeight(call, 'moving_variance').values;
  const gamma = call.config.scale === false ? undefined : needWeight(call, 'gamma').values;
  const beta = call.config.center === false ? undefined : needWeight(call, 'beta').values;
  const epsilon = Number(call.config.epsilon ?? 1e-3);
  const scale = Float64Array.from(mean, (_, c) => (gamma?.[c] ?? 1) / Math.sqrt(variance[c] + epsilon));
  const shift = Float64Array.from(mean, (m, c) => (beta?.[c] ?? 0) - m * scale[c]);
  const axis = Number([call.config.axis ?? -1].flat()[0]);
  const mul = g.op('Mul', `${call.name}_scale`, [x.name, alongAxis(g, `${call.name}/scale`, x, axis, scale)]);
  const add = g.op('Add', call.name, [mul, alongAxis(g, `${call.name}/shift`, x, axis, shift)]);
  return output(call, add, x.layout);
};

const listOf = (value: unknown): number[] => [value].flat().map(Number);

/** Rescaling: x * scale + offset (lists broadcast along the last axis, as TF.js does). */
export const emitRescaling: Emit = (g, call, [x]) => {
  const scale = listOf(call.config.scale ?? 1);
  const offset = listOf(call.config.offset ?? 0);
  let name = x.name;
  if (scale.some((v) => v !== 1)) {
    name = g.op('Mul', `${call.name}_scale`, [name, alongAxis(g, `${call.name}/scale`, x, -1, scale)]);
  }
  if (offset.some((v) => v !== 0)) {
    name = g.op('Add', `${call.name}_offset`, [name, alongAxis(g, `${call.name}/offset`, x, -1, offset)]);
  }
  return output(call, name, x.layout);
};

/** Flatten in Keras order (a Transpose back to NHWC first), so the next Dense's kernel rows line up. */
export const emitFlatten: Emit = (g, call, [input]) => {
  const x = g.toKeras(input);
  return output(call, g.op('Flatten', call.name, [x.name], { axis: int(1) }), 'keras');
};

export const emitReshape: Emit = (g, call, [input]) => {
  const x = g.toKeras(input);
  const shape = g.int64s(`${call.name}/shape`, [0, ...listOf(call.config.targetShape)]);
  return output(call, g.op('Reshape', call.name, [x.name, shape]), 'keras');
};

export const emitPermute: Emit = (g, call, [input]) => {
  const x = g.toKeras(input);
  const perm = [0, ...listOf(call.config.dims)];
  return output(call, g.op('Transpose', call.name, [x.name], { perm: ints(perm) }), 'keras');
};

/** Inputs of a merge in one layout: channels first when they are 4-D and one of them already is. */
function sameLayout(g: Graph, inputs: readonly Value[]): Value[] {
  const nchw = inputs.every((x) => x.shape.length === 4) && inputs.some((x) => x.layout === 'nchw');
  return inputs.map((x) => (nchw ? g.toNchw(x) : g.toKeras(x)));
}

/** Add and Multiply: a chain of binary nodes; Maximum, Minimum, Average: one n-ary node (Max, Min, Mean). */
export const emitMerge =
  (op: 'Add' | 'Mul' | 'Max' | 'Min' | 'Mean'): Emit =>
  (g, call, inputs) => {
    const xs = sameLayout(g, inputs);
    const names = xs.map((x) => x.name);
    if (op !== 'Add' && op !== 'Mul') return output(call, g.op(op, call.name, names), xs[0].layout);
    let name = names[0];
    names.slice(1).forEach((next, index) => {
      name = g.op(op, index === names.length - 2 ? call.name : `${call.name}_${index}`, [name, next]);
    });
    return output(call, name, xs[0].layout);
  };

export const emitConcatenate: Emit = (g, call, inputs) => {
  const xs = sameLayout(g, inputs);
  const axis = physicalAxis(xs[0], Number(call.config.axis ?? -1));
  const name = g.op(
    'Concat',
    call.name,
    xs.map((x) => x.name),
    { axis: int(axis) },
  );
  return output(call, name, xs[0].layout);
};

/** GlobalAveragePooling / GlobalMaxPooling over the spatial axes (2-D and 1-D), Keras order out. */
export const emitGlobalPooling =
  (op: 'ReduceMean' | 'ReduceMax'): Emit =>
  (g, call, [x]) => {
    const rank = x.shape.length;
    const keras = Array.from({ length: rank - 2 }, (_, index) => index + 1);
    const axes = keras.map((axis) => physicalAxis(x, axis));
    return output(call, g.op(op, call.name, [x.name], { axes: ints(axes), keepdims: int(0) }), 'keras');
  };

const same = (call: LayerCall, x: Value, name: string) => output(call, name, x.layout);

export const emitActivationLayer: Emit = (g, call, [x]) => {
  return [{ ...activate(g, call.name, x, call.config.activation), shape: call.outputShapes[0] }];
};

export const emitReLU: Emit = (g, call, [x]) => {
  const max = call.config.maxValue;
  if (max === undefined || max === null) return same(call, x, g.op('Relu', call.name, [x.name]));
  return same(call, x, g.op('Clip', call.name, [x.name, g.scalar(0), g.scalar(Number(max))]));
};

export const emitLeakyReLU: Emit = (g, call, [x]) =>
  same(call, x, g.op('LeakyRelu', call.name, [x.name], { alpha: float(Number(call.config.alpha ?? 0.3)) }));

export const emitELU: Emit = (g, call, [x]) =>
  same(call, x, g.op('Elu', call.name, [x.name], { alpha: float(Number(call.config.alpha ?? 1)) }));

export const emitThresholdedReLU: Emit = (g, call, [x]) =>
  same(call, x, g.op('ThresholdedRelu', call.name, [x.name], { alpha: float(Number(call.config.theta ?? 1)) }));

export const emitSoftmax: Emit = (g, call, [x]) =>
  same(call, x, g.op('Softmax', call.name, [x.name], { axis: int(physicalAxis(x, Number(call.config.axis ?? -1))) }));

/** PReLU in Keras order: its alpha has the input's shape without the batch (1 on shared axes). */
export const emitPReLU: Emit = (g, call, [input]) => {
  const x = g.toKeras(input);
  const alpha = needWeight(call, 'alpha');
  const slope = g.floats(`${call.name}/alpha`, alpha.values, alpha.shape);
  return output(call, g.op('PRelu', call.name, [x.name, slope]), 'keras');
};

/** Layers that are identities at inference (Dropout and friends in a TF.js model). */
export const emitIdentity: Emit = (_g, call, [x]) => [{ ...x, shape: call.outputShapes[0] }];

export const checkActivation: Check = (layer) => activationProblem(layer.config.activation);

export const checkAxis: Check = (layer) => {
  const axis = layer.config.axis;
  return Array.isArray(axis) && axis.length !== 1 ? `axis ${JSON.stringify(axis)} (one axis only)` : undefined;
};

/** Merges of inputs of different ranks broadcast differently in TF.js and ONNX: refused. */
export const checkMerge: Check = (layer) => {
  const mixed = layer.inputShapes.some((shapes) => new Set(shapes.map((shape) => shape.length)).size > 1);
  return mixed ? 'merges inputs of different ranks' : undefined;
};

export const checkChannelsLast: Check = (layer) => {
  const format = layer.config.dataFormat;
  return format === undefined || format === 'channelsLast' ? undefined : `data_format ${String(format)}`;
};
