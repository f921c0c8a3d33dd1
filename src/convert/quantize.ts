import { floatToHalf } from './float16.js';

/** Quantisation modes TF.js manifests support that `convert` writes. */
export type QuantizeMode = 'uint8' | 'float16';

/** The `quantization` entry of a TF.js weights manifest. */
export type Quantization =
  { readonly dtype: 'uint8'; readonly scale: number; readonly min: number } | { readonly dtype: 'float16' };

/** Encoded bytes of one float32 tensor plus its manifest entry. */
export interface Encoded {
  readonly bytes: Uint8Array;
  readonly quantization: Quantization;
}

/** A tensor's uint8 grid: value = q * scale + min. */
export interface Grid {
  readonly scale: number;
  readonly min: number;
}

/** The per-tensor uint8 grid: min, and scale = (max - min) / 255. */
export function uint8Grid(values: Float32Array): Grid {
  const range = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  widenRange(range, values);
  return gridOf(range);
}

/** Widens a running min/max by `values` (a tensor read by slices has one grid, that of all its values). */
export function widenRange(range: { min: number; max: number }, values: Float32Array): void {
  let { min, max } = range;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value < min) min = value;
    if (value > max) max = value;
  }
  range.min = min;
  range.max = max;
}

/** The grid of a min/max (none seen: an empty tensor, grid 0 with scale 1). */
export function gridOf(range: { readonly min: number; readonly max: number }): Grid {
  const isEmpty = range.min > range.max;
  const min = isEmpty ? 0 : range.min;
  const width = isEmpty ? 0 : range.max - range.min;
  // a constant tensor (all zeros, say) decodes exactly with q = 0; scale must not be 0 for the divide
  return { scale: width > 0 ? width / 255 : 1, min };
}

/** The uint8 codes of `values` on a grid, into `out` (at least as long) when given. */
export function uint8Codes(values: Float32Array, grid: Grid, out?: Uint8Array): Uint8Array {
  const { scale, min } = grid;
  const bytes = out ? out.subarray(0, values.length) : new Uint8Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const q = Math.round((values[index] - min) / scale);
    bytes[index] = q < 0 ? 0 : q > 255 ? 255 : q;
  }
  return bytes;
}

/** Affine per-tensor uint8 (value = q * scale + min), as TF.js decodes it. */
export function quantizeUint8(values: Float32Array): Encoded {
  const grid = uint8Grid(values);
  return { bytes: uint8Codes(values, grid), quantization: { dtype: 'uint8', ...grid } };
}

/** IEEE half precision. */
export function quantizeFloat16(values: Float32Array): Encoded {
  const half = floatToHalf(values);
  return { bytes: new Uint8Array(half.buffer, half.byteOffset, half.byteLength), quantization: { dtype: 'float16' } };
}

/** Encodes a float32 tensor for the given mode. */
export const quantize = (values: Float32Array, mode: QuantizeMode): Encoded =>
  mode === 'uint8' ? quantizeUint8(values) : quantizeFloat16(values);
