// Every export is run once before it is written: ONNX Runtime on a seeded input against the TF.js model it came
// from. A difference beyond float rounding is an exporter bug, so nothing is written (exit 4).
import { createRequire } from 'node:module';
import type * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { LambdaMlError } from '../lib/errors.js';
import { seededInputs } from '../convert/compare.js';

/** Largest output difference allowed, relative to the output's largest magnitude (at least 1). */
export const EXPORT_TOLERANCE = 1e-4;

/** onnxruntime-node, loaded on first use (a native addon: only `convert ... OUT.onnx` needs it). */
export function loadOrt(): typeof Ort {
  return createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
}

/** What the check measured. */
export interface ExportCheck {
  readonly maxAbsDiff: number;
  readonly tolerance: number;
}

/** Runs the ONNX bytes and the TF.js model on the same seeded input and compares every output. */
export async function checkExport(
  model: tf.LayersModel,
  bytes: Uint8Array,
  names: { inputs: readonly string[]; outputs: readonly string[] },
  label: string,
): Promise<ExportCheck> {
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const inputs = seededInputs(model);
  try {
    const feeds: Record<string, Ort.Tensor> = {};
    inputs.forEach((input, index) => {
      feeds[names.inputs[index]] = new ort.Tensor('float32', input.dataSync() as Float32Array, input.shape);
    });
    const results = await session.run(feeds);
    const predicted = [model.predict(inputs)].flat() as tf.Tensor[];
    let maxAbsDiff = 0;
    let scale = 1;
    predicted.forEach((tensor, index) => {
      const want = tensor.dataSync();
      const got = results[names.outputs[index]].data as Float32Array;
      if (got.length !== want.length) throw new Error(`onnx: output ${names.outputs[index]} has the wrong size`);
      for (let i = 0; i < want.length; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      tensor.dispose();
    });
    const tolerance = EXPORT_TOLERANCE * scale;
    if (!(maxAbsDiff <= tolerance)) {
      throw new LambdaMlError(
        'internal',
        `${label}: the ONNX export differs from TF.js by ${maxAbsDiff.toExponential(2)} on a seeded input ` +
          `(allowed ${tolerance.toExponential(1)}); nothing was written`,
        'this is a lambda-ml bug: report it with the model, and convert to TF.js (an OUT without .onnx) meanwhile',
      );
    }
    return { maxAbsDiff, tolerance };
  } finally {
    for (const input of inputs) input.dispose();
    await session.release();
  }
}
