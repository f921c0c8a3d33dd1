/** What `convert` reports about quantisation (docs/convert.md); planned by quantize-check.ts. */
import type { TensorDtype } from './quantize-auto.js';

export type QuantizeChoice = 'uint8' | 'float16' | 'auto';

/** What the report says about quantisation. */
export interface QuantizationReport {
  readonly mode: QuantizeChoice;
  readonly calibration: 'images' | 'synthetic';
  readonly inputs: number;
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
