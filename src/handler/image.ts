/**
 * Decodes an image with sharp: EXIF rotation, alpha flattened onto white, resized to the model input, as the model's
 * input (preprocess.ts).
 */
import type sharpType from 'sharp';
import { preprocessPixels, type PreprocessSpec } from './preprocess.js';

export type Sharp = typeof sharpType;

/** Formats the handler classifies; everything else (svg, pdf, heic, raw...) is a skipped record. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;

/** A record the handler does not process, with why. Logged, never thrown out of the handler. */
export class SkipError extends Error {
  override name = 'SkipError';
  readonly reason: string;
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** A decoded image: the original size and format, and a small thumbnail for colours. */
export interface DecodedImage {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly pipeline: () => import('sharp').Sharp; // rotated + flattened, ready to resize
  readonly thumbnail: { readonly data: Buffer; readonly channels: number };
}

/** Checks the format from the header and decodes fully once (so a truncated file fails here, as a skip). */
export async function decodeImage(sharp: Sharp, input: Buffer, thumbSize = 64): Promise<DecodedImage> {
  if (input.length === 0) throw new SkipError('empty', 'the object is empty');
  let meta;
  try {
    meta = await sharp(input).metadata();
  } catch (error) {
    throw new SkipError('not-an-image', `not an image (${(error as Error).message})`, { cause: error });
  }
  // sharp reports AVIF as heif with compression av1.
  const format = meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : String(meta.format);
  if (!(IMAGE_FORMATS as readonly string[]).includes(format))
    throw new SkipError(
      'unsupported-format',
      `unsupported image format "${format}" (expected ${IMAGE_FORMATS.join(', ')})`,
    );
  // failOn 'truncated': a cut-off JPEG/PNG is an error, not a grey half-image classified as something.
  const pipeline = () =>
    sharp(input, { failOn: 'truncated' }).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb');
  let thumbnail;
  try {
    const { data, info } = await pipeline()
      .resize(thumbSize, thumbSize, { fit: 'inside' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    thumbnail = { data, channels: info.channels };
  } catch (error) {
    const message = (error as Error).message;
    const reason = /premature end|truncat|unexpected end|corrupt|incomplete/i.test(message)
      ? 'truncated'
      : 'decode-failed';
    throw new SkipError(reason, `cannot decode the ${format} image: ${message.split('\n')[0]}`, { cause: error });
  }
  return { format, width: meta.width ?? 0, height: meta.height ?? 0, pipeline, thumbnail };
}

/**
 * Pixels resized to width x height (fit 'fill': the models were trained on squashed, not cropped, images), then
 * preprocessPixels (channel order, range, mean/std): the model's input.
 */
export async function toModelInput(image: DecodedImage, spec: PreprocessSpec): Promise<Float32Array>;
/** The older form: rgb in `range`, no mean/std. */
export async function toModelInput(
  image: DecodedImage,
  width: number,
  height: number,
  range: readonly [number, number],
): Promise<Float32Array>;
export async function toModelInput(
  image: DecodedImage,
  specOrWidth: PreprocessSpec | number,
  height = 0,
  range: readonly [number, number] = [0, 1],
): Promise<Float32Array> {
  const spec = typeof specOrWidth === 'number' ? { width: specOrWidth, height, range } : specOrWidth;
  const { data, info } = await image
    .pipeline()
    .resize(spec.width, spec.height, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3)
    throw new SkipError('decode-failed', `expected 3 channels after decoding, got ${info.channels}`);
  return preprocessPixels(data, spec);
}
