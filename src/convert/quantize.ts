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

/** The per-tensor uint8 grid: min, and scale = (max - min) / 255. */
export function uint8Grid(values: Float32Array): { scale: number; min: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (values.length === 0) {
    min = 0;
    max = 0;
  }
  const range = max - min;
  // a constant tensor (all zeros, say) decodes exactly with q = 0; scale must not be 0 for the divide
  return { scale: range > 0 ? range / 255 : 1, min };
}

/** Affine per-tensor uint8 (value = q * scale + min), as TF.js decodes it. */
export function quantizeUint8(values: Float32Array): Encoded {
  const { scale, min } = uint8Grid(values);
  const bytes = new Uint8Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const q = Math.round((values[index] - min) / scale);
    bytes[index] = q < 0 ? 0 : q > 255 ? 255 : q;
  }
  return { bytes, quantization: { dtype: 'uint8', scale, min } };
}

/** IEEE half precision. */
export function quantizeFloat16(values: Float32Array): Encoded {
  const half = floatToHalf(values);
  return { bytes: new Uint8Array(half.buffer, half.byteOffset, half.byteLength), quantization: { dtype: 'float16' } };
}

/** Encodes a float32 tensor for the given mode. */
export const quantize = (values: Float32Array, mode: QuantizeMode): Encoded =>
  mode === 'uint8' ? quantizeUint8(values) : quantizeFloat16(values);
