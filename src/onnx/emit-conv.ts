// Convolutions and the 2-D spatial layers around them, in channels-first layout (ONNX Conv and pooling are NCHW).
// Keras 'same' pads like TensorFlow: ceil(in / stride) outputs, the odd pixel of padding at the end; the pads are
// written out (not auto_pad) when the input size is known, so a ZeroPadding2D before can be folded into them.
import { int, ints, str, type Attr, type Graph, type Value } from './graph.js';
import { activate } from './activations.js';
import { needWeight, output, type Check, type Emit, type LayerCall } from './emit-types.js';

type Pair = readonly [number, number];
const pair = (value: unknown): Pair =>
  (Array.isArray(value) ? [value[0], value[1] ?? value[0]] : [value, value]) as Pair;

/** TensorFlow's 'same' padding of one axis: [before, after]. */
export function samePads(size: number, kernel: number, stride: number, dilation = 1): Pair {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** kernel_shape, strides, dilations and pads (or auto_pad when the input size is unknown) of a 2-D window. */
function windowAttrs(call: LayerCall, input: Value, kernel: Pair, withDilation: boolean): Record<string, Attr> {
  const strides = pair(call.config.strides ?? kernel);
  const dilations = withDilation ? pair(call.config.dilationRate ?? 1) : ([1, 1] as Pair);
  const attrs: Record<string, Attr> = { kernel_shape: ints(kernel), strides: ints(strides) };
  if (withDilation) attrs.dilations = ints(dilations);
  if (call.config.padding !== 'same') return { ...attrs, pads: ints([0, 0, 0, 0]) };
  const [h, w] = [input.shape[1], input.shape[2]];
  if (h === null || w === null) return { ...attrs, auto_pad: str('SAME_UPPER') };
  const [top, bottom] = samePads(h, kernel[0], strides[0], dilations[0]);
  const [left, right] = samePads(w, kernel[1], strides[1], dilations[1]);
  return { ...attrs, pads: ints([top, left, bottom, right]) };
}

/** Keras kernel [kh, kw, cin, cout] as ONNX [cout, cin, kh, kw]. */
export function convKernel(values: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, cin, cout] = shape;
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/** Keras depthwise kernel [kh, kw, cin, multiplier] as ONNX [cin * multiplier, 1, kh, kw] (output c * m + j). */
export function depthwiseKernel(values: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, cin, m] = shape;
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < cin; c++)
        for (let j = 0; j < m; j++) out[((c * m + j) * kh + y) * kw + x] = values[((y * kw + x) * cin + c) * m + j];
  return out;
}

const conv = (g: Graph, call: LayerCall, x: Value, weights: string[], attrs: Record<string, Attr>, base: string) =>
  g.op('Conv', base, [x.name, ...weights], attrs);

const bias = (g: Graph, call: LayerCall): string[] => {
  if (call.config.useBias === false) return [];
  const b = needWeight(call, 'bias');
  return [g.floats(`${call.name}/bias`, b.values, [b.shape[0]])];
};

const finish = (g: Graph, call: LayerCall, name: string): Value[] => {
  const [out] = output(call, name, 'nchw');
  return [activate(g, `${call.name}_${String(call.config.activation)}`, out, call.config.activation)];
};

export const emitConv2d: Emit = (g, call, [input]) => {
  const x = g.toNchw(input);
  const kernel = needWeight(call, 'kernel');
  const size = pair(call.config.kernelSize);
  const w = g.floats(`${call.name}/kernel`, convKernel(kernel.values, kernel.shape), [
    kernel.shape[3],
    kernel.shape[2],
    ...size,
  ]);
  const attrs = { ...windowAttrs(call, input, size, true), group: int(1) };
  return finish(g, call, conv(g, call, x, [w, ...bias(g, call)], attrs, call.name));
};

export const emitDepthwiseConv2d: Emit = (g, call, [input]) => {
  const x = g.toNchw(input);
  const kernel = needWeight(call, 'depthwise_kernel');
  const size = pair(call.config.kernelSize);
  const [, , cin, m] = kernel.shape;
  const w = g.floats(`${call.name}/depthwise_kernel`, depthwiseKernel(kernel.values, kernel.shape), [
    cin * m,
    1,
    ...size,
  ]);
  const attrs = { ...windowAttrs(call, input, size, true), group: int(cin) };
  return finish(g, call, conv(g, call, x, [w, ...bias(g, call)], attrs, call.name));
};

/** SeparableConv2D: a depthwise Conv (strides, padding, dilation) then a 1x1 Conv with the bias. */
export const emitSeparableConv2d: Emit = (g, call, [input]) => {
  const x = g.toNchw(input);
  const depthwise = needWeight(call, 'depthwise_kernel');
  const pointwise = needWeight(call, 'pointwise_kernel');
  const size = pair(call.config.kernelSize);
  const [, , cin, m] = depthwise.shape;
  const dw = g.floats(`${call.name}/depthwise_kernel`, depthwiseKernel(depthwise.values, depthwise.shape), [
    cin * m,
    1,
    ...size,
  ]);
  const attrs = { ...windowAttrs(call, input, size, true), group: int(cin) };
  const mid = conv(g, call, x, [dw], attrs, `${call.name}_depthwise`);
  const cout = pointwise.shape[3];
  const pw = g.floats(`${call.name}/pointwise_kernel`, convKernel(pointwise.values, pointwise.shape), [
    cout,
    cin * m,
    1,
    1,
  ]);
  const ones = { kernel_shape: ints([1, 1]), strides: ints([1, 1]), pads: ints([0, 0, 0, 0]), group: int(1) };
  const midValue: Value = { name: mid, shape: [], layout: 'nchw' };
  return finish(g, call, conv(g, call, midValue, [pw, ...bias(g, call)], ones, call.name));
};

/** MaxPooling2D / AveragePooling2D; 'same' averages over the pixels inside the image, as TensorFlow does. */
export const emitPooling2d =
  (op: 'MaxPool' | 'AveragePool'): Emit =>
  (g, call, [input]) => {
    const x = g.toNchw(input);
    const attrs = windowAttrs(call, input, pair(call.config.poolSize), false);
    if (op === 'AveragePool') attrs.count_include_pad = int(0);
    return output(call, g.op(op, call.name, [x.name], attrs), 'nchw');
  };

const padsOf = (value: unknown): [Pair, Pair] => {
  if (typeof value === 'number') return [pair(value), pair(value)];
  const [a, b] = value as unknown[];
  return [pair(a), pair(b ?? a)];
};

/**
 * ZeroPadding2D: a Pad node, folded into the next Conv's pads when that is its only use (fold.ts). The pad value is
 * -0.0, not 0: onnxruntime 1.30's PadFusion moves a zero Pad into a following MaxPool, whose pads are -inf (so
 * negative inputs come out wrong, and pads as large as the kernel fail to load); a non-zero byte pattern keeps the
 * Pad, and -0.0 == 0 everywhere it is used.
 */
export const emitZeroPadding2d: Emit = (g, call, [input]) => {
  const x = g.toNchw(input);
  const [[top, bottom], [left, right]] = padsOf(call.config.padding);
  const pads = g.int64s(`${call.name}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
  const value = g.floats(`${call.name}/value`, [-0], []);
  return output(call, g.op('Pad', call.name, [x.name, pads, value], { mode: str('constant') }), 'nchw');
};

/** Cropping2D: a Slice of height and width (negative ends count from the end, so the size need not be known). */
export const emitCropping2d: Emit = (g, call, [input]) => {
  const x = g.toNchw(input);
  const [[top, bottom], [left, right]] = padsOf(call.config.cropping);
  const end = (crop: number) => (crop > 0 ? -crop : Number.MAX_SAFE_INTEGER);
  const starts = g.int64s(`${call.name}/starts`, [top, left]);
  const ends = g.int64s(`${call.name}/ends`, [end(bottom), end(right)]);
  const axes = g.int64s(`${call.name}/axes`, [2, 3]);
  return output(call, g.op('Slice', call.name, [x.name, starts, ends, axes]), 'nchw');
};

/** UpSampling2D (nearest): each pixel repeated, as TF.js's resizeNearestNeighbor does for whole factors. */
export const emitUpSampling2d: Emit = (g, call, [input]) => {
  const x = g.toNchw(input);
  const [sh, sw] = pair(call.config.size);
  const scales = g.floats(`${call.name}/scales`, [1, 1, sh, sw], [4]);
  const attrs = {
    mode: str('nearest'),
    coordinate_transformation_mode: str('asymmetric'),
    nearest_mode: str('floor'),
  };
  return output(call, g.op('Resize', call.name, [x.name, '', scales], attrs), 'nchw');
};

const channelsLast = (value: unknown) => value === undefined || value === null || value === 'channelsLast';

/** Only channels-last 2-D layers with 'valid' or 'same' padding. */
export const checkSpatial: Check = (layer) => {
  if (!channelsLast(layer.config.dataFormat)) return `data_format ${String(layer.config.dataFormat)} is not exported`;
  const padding = layer.config.padding;
  if (typeof padding === 'string' && padding !== 'valid' && padding !== 'same') return `padding ${padding}`;
  return undefined;
};

export const checkUpSampling: Check = (layer) => {
  if (layer.config.interpolation !== undefined && layer.config.interpolation !== 'nearest') {
    return `interpolation ${String(layer.config.interpolation)} (only nearest is exported)`;
  }
  return checkSpatial(layer);
};
