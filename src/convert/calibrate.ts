/**
 * Calibration inputs for `--quantize` (docs/convert.md): the user's images (`--calibrate DIR`, decoded by the
 * handler's own path: sharp, then preprocess.ts) or deterministic synthetic ones (seeded gradients, shapes, noise).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, SkipError, toModelInput } from '../handler/image.js';
import { channelCount, preprocessPixels, type PreprocessSpec } from '../handler/preprocess.js';
import { inputError } from '../lib/errors.js';
import { seededRandom } from './compare.js';
import type { Normalisation } from './quantize-report.js';

// The shape lives in quantize-report.ts (the report carries it): re-exported for the callers.
export type { Normalisation } from './quantize-report.js';

/**
 * Range, channel order and normalisation of the model's input; `width`/`height` size an image input whose size the
 * model leaves open (the model's own size wins).
 */
export type CalibrationSpec = Omit<PreprocessSpec, 'width' | 'height'> & {
  readonly width?: number;
  readonly height?: number;
};

/** The calibration batch: one tensor per model input, `count` rows each. */
export interface Calibration {
  readonly inputs: tf.Tensor[];
  readonly count: number;
  readonly source: 'images' | 'synthetic';
  readonly normalisation: Normalisation;
}

/** Images read from `--calibrate DIR` at most (sorted by name): enough to see flips, few enough for one batch. */
export const MAX_CALIBRATION_IMAGES = 32;
const SYNTHETIC_COUNT = 8;
/** A big model (float weights over 64 MiB) runs each pass on half the batch: the passes dominate its time. */
export const BIG_MODEL_PARAMS = 16_777_216;

/** Inputs in the batch: synthetic ones and the most images read from `--calibrate`. */
export const batchLimits = (params: number) =>
  params > BIG_MODEL_PARAMS
    ? { synthetic: SYNTHETIC_COUNT / 2, images: MAX_CALIBRATION_IMAGES / 2 }
    : { synthetic: SYNTHETIC_COUNT, images: MAX_CALIBRATION_IMAGES };

const imageShape = (shape: readonly (number | null)[], spec: CalibrationSpec) => {
  if (shape.length !== 4 || (shape[3] !== 1 && shape[3] !== 3)) return null;
  const height = shape[1] ?? spec.height;
  const width = shape[2] ?? spec.width;
  return height && width ? { height, width, channels: shape[3] } : null;
};

/** The preprocessing of an image input: the spec's channels (else the model's) and mean/std per channel. */
function imageSpec(spec: CalibrationSpec, image: { height: number; width: number; channels: number }): PreprocessSpec {
  const channels = spec.channels ?? (image.channels === 1 ? 'grey' : 'rgb');
  const count = channelCount(channels);
  if (count !== image.channels)
    throw inputError(
      `the model takes ${image.channels} channel${image.channels === 1 ? '' : 's'} and the calibration input ` +
        `channels are ${channels} (${count})`,
      `set --channels (or the config model's input.channels) to ${image.channels === 1 ? 'grey' : 'rgb or bgr'}`,
    );
  const perChannel = (values: readonly number[] | undefined, fallback: number) =>
    Array.from({ length: count }, (_, c) => values?.[c] ?? values?.[0] ?? fallback);
  return {
    width: image.width,
    height: image.height,
    range: spec.range,
    channels,
    mean: perChannel(spec.mean, 0),
    std: perChannel(spec.std, 1),
  };
}

/** The calibration batch for a built model. */
export async function calibrationInputs(
  model: tf.LayersModel,
  spec: CalibrationSpec,
  dir?: string,
  limits = batchLimits(0),
): Promise<Calibration> {
  const count = limits.synthetic;
  if (dir) {
    const image = imageShape(model.inputs[0].shape, spec);
    if (model.inputs.length !== 1 || !image) {
      throw inputError(
        `--calibrate needs a model with one image input [batch, height, width, 1 or 3] (this one ` +
          `has ${model.inputs.map((input) => `[${input.shape.join(', ')}]`).join(', ')})`,
        'drop --calibrate: synthetic inputs are used',
      );
    }
    const preprocess = imageSpec(spec, image);
    const rows = await imagesFrom(dir, preprocess, limits.images);
    return {
      inputs: [tf.tensor4d(concat(rows), [rows.length, image.height, image.width, image.channels])],
      count: rows.length,
      source: 'images',
      normalisation: preprocess,
    };
  }
  let normalisation: Normalisation = { range: spec.range };
  const random = seededRandom(20240610);
  const inputs = model.inputs.map((input) => {
    const image = imageShape(input.shape, spec);
    if (image) {
      const preprocess = imageSpec(spec, image);
      normalisation = preprocess;
      const pixels = Array.from({ length: count }, (_, index) =>
        syntheticImage(index, image.width, image.height, random),
      );
      const rows = pixels.map((rgb) => preprocessPixels(rgb, preprocess));
      return tf.tensor4d(concat(rows), [count, image.height, image.width, image.channels]);
    }
    const shape = [count, ...input.shape.slice(1).map((size) => size ?? 32)];
    const per = shape.slice(1).reduce((product, size) => product * size, 1);
    const [lo, hi] = spec.range;
    const values = new Float32Array(count * per);
    for (let row = 0; row < count; row++) {
      // half smooth waves, half noise: both the structured and the unstructured corner of the input space
      const frequency = 1 + row;
      for (let i = 0; i < per; i++) {
        const unit = row % 2 === 0 ? 0.5 + 0.5 * Math.sin((i / per) * frequency * Math.PI * 2) : random();
        values[row * per + i] = lo + unit * (hi - lo);
      }
    }
    return input.dtype === 'int32'
      ? tf.tensor(
          Int32Array.from(values, (v) => Math.floor(v * 10)),
          shape,
          'int32',
        )
      : tf.tensor(values, shape);
  });
  return { inputs, count, source: 'synthetic', normalisation };
}

/** Synthetic RGB pixels: gradients, a disc, stripes, checks, and noise over a gradient (pattern by index). */
export function syntheticImage(index: number, width: number, height: number, random: () => number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const hue = [
    [255, 64, 0],
    [0, 160, 255],
    [40, 200, 60],
    [250, 220, 180],
  ][index % 4];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / Math.max(1, width - 1);
      const v = y / Math.max(1, height - 1);
      const r = Math.hypot(u - 0.5, v - 0.5);
      let t: number;
      switch (index % 8) {
        case 0:
          t = u;
          break;
        case 1:
          t = v;
          break;
        case 2:
          t = r < 0.3 ? 1 : 0.15;
          break;
        case 3:
          t = 0.5 + 0.5 * Math.sin(u * 12 * Math.PI);
          break;
        case 4:
          t = (Math.floor(u * 8) + Math.floor(v * 8)) % 2;
          break;
        case 5:
          t = 0.5 + 0.5 * Math.cos(r * 20);
          break;
        case 6:
          t = ((u + v) / 2) * 0.6 + random() * 0.4;
          break;
        default:
          t = random();
      }
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(hue[c] * t + (255 - hue[c]) * (1 - t) * v);
    }
  }
  return out;
}

async function imagesFrom(dir: string, spec: PreprocessSpec, limit: number): Promise<Float32Array[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw inputError(
      `--calibrate ${dir}:` +
        ` ${error.code === 'ENOENT' ? 'not found' : error.code === 'ENOTDIR' ? 'not a folder' : error.message}`,
      'point --calibrate at a folder of images (jpeg, png, webp...)',
    );
  });
  const { default: sharp } = await import('sharp');
  const rows: Float32Array[] = [];
  for (const name of names.sort()) {
    if (rows.length >= limit) break;
    const data = await readFile(join(dir, name)).catch(() => null);
    if (!data) continue; // a sub-folder or an unreadable entry
    try {
      rows.push(await toModelInput(await decodeImage(sharp, data), spec));
    } catch (error) {
      if (!(error instanceof SkipError)) throw error;
    }
  }
  if (rows.length === 0)
    throw inputError(
      `--calibrate ${dir}: no images found (jpeg, png, webp, gif, tiff, avif)`,
      'put a few typical photos in the folder, or drop --calibrate',
    );
  return rows;
}

function concat(rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((sum, row) => sum + row.length, 0));
  let offset = 0;
  for (const row of rows) {
    out.set(row, offset);
    offset += row.length;
  }
  return out;
}
