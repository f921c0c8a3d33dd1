import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cleanStaleTemps, makeTempDirBeside, replaceDir } from '../lib/atomic-dir.js';
import { assertReplaceable } from './atomic-dir.js';
import { buildModel, listLayers } from './build-model.js';
import { loadBoundWeights, loadManifestWeights, seededInputs } from './compare.js';
import { openKeras } from './open-keras.js';
import type { QuantizeMode } from './quantize.js';
import { fileModelHandler } from './tfjs-io.js';
import type { ConvertReport } from './types.js';
import { writeTfjsModel } from './write-tfjs.js';

// PROD silences TF.js's "install tfjs-node" banner on stderr: a CLI's output is not the place for it.
tf.env().set('PROD', true);

/** Options of `convertKeras`. */
export interface ConvertOptions {
  readonly quantize?: QuantizeMode;
}

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** Counts real layers (nested model wrappers excluded) in a Keras config. */
export const countLayers = (modelConfig: Record<string, unknown>) => listLayers(modelConfig).filter((layer) => !MODEL_CLASSES.has(layer.className)).length;

/**
 * Converts a Keras `.h5` (Keras 2 / tf.keras) or `.keras` (Keras 3) model into a TF.js layers model folder,
 * written atomically. With `quantize`, also measures the output drift against float32 on a seeded input.
 */
export async function convertKeras(inPath: string, outDir: string, options: ConvertOptions = {}): Promise<ConvertReport> {
  const out = resolve(outDir);
  await assertReplaceable(out);
  await cleanStaleTemps(out);
  const source = await openKeras(inPath);
  let temp: string | undefined;
  try {
    await tf.ready();
    const skeleton = await buildModel(source.modelConfig, inPath);
    let written;
    let weights = 0;
    try {
      const bindings = source.bind(skeleton);
      weights = bindings.length;
      temp = await makeTempDirBeside(out);
      written = await writeTfjsModel(source, bindings, temp, options.quantize, inPath);
      await replaceDir(temp, out);
      temp = undefined;
    } finally {
      skeleton.dispose();
    }
    const maxAbsDiff = options.quantize ? await measureDrift(source, out, inPath) : 0;
    return {
      format: source.format,
      kerasVersion: source.kerasVersion,
      layers: countLayers(source.modelConfig),
      weights,
      params: written.params,
      bytesBefore: written.bytesBefore,
      bytesAfter: written.bytesAfter,
      quantize: options.quantize,
      maxAbsDiff,
      outDir: out,
      files: written.files,
    };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
    await source.close();
  }
}

/**
 * Output drift of the written quantised model against float32 on one seeded input. One model is built and
 * its weights swapped in place, so this costs one model in memory, not three.
 */
async function measureDrift(source: Awaited<ReturnType<typeof openKeras>>, out: string, label: string): Promise<number> {
  const model = await buildModel(source.modelConfig, label);
  const inputs = seededInputs(model);
  try {
    loadBoundWeights(model, source.bind(model), label);
    const reference = [model.predict(inputs)].flat() as tf.Tensor[];
    const artifacts = await fileModelHandler(out).load!();
    loadManifestWeights(model, artifacts.weightSpecs ?? [], artifacts.weightData as ArrayBuffer);
    const quantised = [model.predict(inputs)].flat() as tf.Tensor[];
    const max = Math.max(...reference.map((tensor, index) => tf.tidy(() => tf.max(tf.abs(tf.sub(tensor, quantised[index]))).dataSync()[0])));
    tf.dispose([...reference, ...quantised]);
    return max;
  } finally {
    tf.dispose(inputs);
    model.dispose();
  }
}
