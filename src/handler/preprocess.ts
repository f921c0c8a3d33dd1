/**
 * The one preprocessing path (docs/design.md, "model input"): decoded RGB pixels -> the model's float32 NHWC input.
 * Used by the handler's classify path, by `invoke` (which runs the handler) and by `convert --calibrate`.
 */

/** Channel layouts a model can expect. */
export type Channels = 'rgb' | 'bgr' | 'grey';

export const CHANNELS: readonly Channels[] = ['rgb', 'bgr', 'grey'];

/** What preprocessing needs of a model's `input` (mean/std are in the model's channel order). */
export interface PreprocessSpec {
  readonly width: number;
  readonly height: number;
  readonly range: readonly [number, number];
  readonly channels?: Channels;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

/** Channels the model's input tensor has. */
export const channelCount = (channels: Channels | undefined) => (channels === 'grey' ? 1 : 3);

/**
 * Luma as PIL's convert('L') computes it (ITU-R 601-2, integer rounding): what Keras `color_mode="grayscale"` trains
 * on.
 */
export const greyOf = (r: number, g: number, b: number) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;

/**
 * Maps interleaved 8-bit RGB pixels (3 bytes each) to the model input: channel order (rgb, bgr or one grey channel),
 * then `lo + pixel * (hi - lo) / 255`, then `(value - mean[c]) / std[c]`.
 */
export function preprocessPixels(rgb: Uint8Array, spec: PreprocessSpec): Float32Array {
  const count = channelCount(spec.channels);
  const pixels = Math.floor(rgb.length / 3);
  const [lo, hi] = spec.range;
  const scale = (hi - lo) / 255;
  const mean = Array.from({ length: count }, (_, c) => spec.mean?.[c] ?? spec.mean?.[0] ?? 0);
  const inv = Array.from({ length: count }, (_, c) => 1 / (spec.std?.[c] ?? spec.std?.[0] ?? 1));
  const out = new Float32Array(pixels * count);
  const bgr = spec.channels === 'bgr';
  for (let p = 0; p < pixels; p++) {
    const r = rgb[p * 3];
    const g = rgb[p * 3 + 1];
    const b = rgb[p * 3 + 2];
    if (count === 1) {
      out[p] = (lo + greyOf(r, g, b) * scale - mean[0]) * inv[0];
      continue;
    }
    const o = p * 3;
    out[o] = (lo + (bgr ? b : r) * scale - mean[0]) * inv[0];
    out[o + 1] = (lo + g * scale - mean[1]) * inv[1];
    out[o + 2] = (lo + (bgr ? r : b) * scale - mean[2]) * inv[2];
  }
  return out;
}

/** A key that is equal for two models exactly when their preprocessed inputs are equal (the handler shares them). */
export const preprocessKey = (spec: PreprocessSpec) =>
  JSON.stringify([spec.width, spec.height, spec.range, spec.channels ?? 'rgb', spec.mean ?? [], spec.std ?? []]);
