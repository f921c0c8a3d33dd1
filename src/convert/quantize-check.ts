/**
 * Quantisation with a check (docs/convert.md): `auto` searches per-tensor dtypes; `uint8`/`float16` are checked
 * on the same calibration batch, warn when a top-1 class flips, and with `strict` refuse (exit 1, nothing written).
 */
import * as tf from '@tensorflow/tfjs';
import { LambdaMlError } from '../lib/errors.js';
import { batchLimits, calibrationInputs, type CalibrationSpec } from './calibrate.js';
import { elementCount, readFloat32Into, readTensor } from './read-tensor.js';
import type { Grid } from './quantize.js';
import type { WeightBinding } from './types.js';
import { Evaluator } from './evaluator.js';
import { checkFixed, searchDtypes, summarise, type SearchTensor, type TensorDtype } from './quantize-auto.js';
import type { QuantizationReport, QuantizeChoice } from './quantize-report.js';

// The report's shape lives in quantize-report.ts (types.ts carries one): re-exported for the callers.
export type { QuantizationReport, QuantizeChoice } from './quantize-report.js';

/** Quantisation options shared by both inputs of `convert` (Keras files and TF.js folders). */
export interface QuantizeOptions {
  readonly quantize?: QuantizeChoice;
  /** Largest output difference `auto` accepts (default 0.02). */
  readonly maxDiff?: number;
  /** Folder of calibration images; else synthetic inputs. */
  readonly calibrate?: string;
  /** Range/channels/mean/std of the model input (default range [0, 1], rgb). */
  readonly input?: CalibrationSpec;
  /** Where `input` came from, for the report (default: `defaults`). */
  readonly inputFrom?: string;
  /** A top-1 flip under uint8/float16 is exit 1 instead of a warning. */
  readonly strict?: boolean;
}

export const DEFAULT_MAX_DIFF = 0.02;

/**
 * Plans the dtypes for a built model (the caller disposes it): the search writes `tensors` into it itself, so only
 * weights that are not among them need to be loaded first. Throws exit 1 when `strict` and a fixed mode flips a top-1.
 */
export async function planQuantization(
  model: tf.LayersModel,
  tensors: readonly SearchTensor[],
  options: QuantizeOptions,
  label: string,
): Promise<{ dtypes: ReadonlyMap<string, TensorDtype>; grids: ReadonlyMap<string, Grid>; report: QuantizationReport }> {
  const started = performance.now();
  const mode = options.quantize ?? 'auto';
  const threshold = options.maxDiff ?? DEFAULT_MAX_DIFF;
  const params = tensors.reduce((sum, tensor) => sum + tensor.count, 0);
  const calibration = await calibrationInputs(
    model,
    options.input ?? { range: [0, 1] },
    options.calibrate,
    batchLimits(params),
  );
  let evaluator: Evaluator | undefined;
  try {
    evaluator = new Evaluator(model, calibration.inputs, tensors);
    evaluator.start();
    const plan = mode === 'auto' ? searchDtypes(evaluator, tensors, threshold) : checkFixed(evaluator, tensors, mode);
    const { counts, largest } = summarise(plan, tensors);
    const warnings: string[] = [];
    const { flips, maxDiff } = plan.verdict;
    if (mode !== 'auto' && flips > 0) {
      const what =
        `--quantize ${mode} changes the top-1 class of ${flips} ` +
        `of ${calibration.count} ${calibration.source} calibration inputs (largest output ` +
        `difference ${maxDiff.toFixed(3)})`;
      if (options.strict)
        throw new LambdaMlError(
          'over-budget',
          `${label}: ${what}; nothing written (--strict)`,
          'use --quantize auto, which keeps every top-1',
        );
      warnings.push(`${what}: use --quantize auto to keep them`);
    }
    return {
      dtypes: plan.dtypes,
      grids: evaluator.grids,
      report: {
        mode,
        calibration: calibration.source,
        inputs: calibration.count,
        normalisation: calibration.normalisation,
        normalisationFrom: options.inputFrom ?? 'defaults',
        threshold,
        maxAbsDiff: maxDiff,
        flips,
        passes: plan.passes,
        ms: Math.round(performance.now() - started),
        counts,
        largest,
        warnings,
      },
    };
  } finally {
    evaluator?.dispose();
    tf.dispose(calibration.inputs);
  }
}

/** The float weights of bound Keras weights, re-read from the file whenever the search needs their float32 values. */
export function bindingTensors(bindings: readonly WeightBinding[], label: string): SearchTensor[] {
  return bindings
    .filter((binding) => binding.dataset.metadata.type === 1)
    .map((binding) => ({
      name: binding.name,
      count: elementCount(binding.dataset),
      read: (out?: Float32Array) =>
        out
          ? readFloat32Into(binding.dataset, out, label)
          : (readTensor(binding.dataset, label).values as Float32Array),
    }));
}

/** The per-binding modes write-tfjs.ts takes from a plan (float32: written as is). */
export const modesOf = (dtypes: ReadonlyMap<string, TensorDtype>) => (binding: { readonly name: string }) => {
  const dtype = dtypes.get(binding.name);
  return dtype === 'uint8' || dtype === 'float16' ? dtype : undefined;
};
