/** What `convert` reports about quantisation (docs/convert.md); planned by quantize-check.ts. */
import type { Channels } from '../handler/preprocess.js';
import type { TensorDtype } from './quantize-auto.js';

export type QuantizeChoice = 'uint8' | 'float16' | 'auto';

/** How calibration inputs were preprocessed: an image input's size, channels, range, mean and std. */
export interface Normalisation {
  readonly width?: number;
  readonly height?: number;
  readonly range: readonly [number, number];
  readonly channels?: Channels;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

/** What the report says about quantisation. */
export interface QuantizationReport {
  readonly mode: QuantizeChoice;
  readonly calibration: 'images' | 'synthetic';
  readonly inputs: number;
  /** What the calibration inputs were preprocessed with (an image input: its size, channels, mean and std). */
  readonly normalisation: Normalisation;
  /** Where the normalisation came from: `defaults`, `flags`, or the config model (`<file> models[i] "name"`). */
  readonly normalisationFrom: string;
  readonly threshold: number;
  readonly maxAbsDiff: number;
  /** Calibration inputs whose top-1 class differs from float32's. */
  readonly flips: number;
  readonly passes: number;
  readonly ms: number;
  readonly counts: Record<TensorDtype, number>;
  readonly largest: readonly { name: string; params: number; dtype: TensorDtype }[];
  readonly warnings: readonly string[];
}
