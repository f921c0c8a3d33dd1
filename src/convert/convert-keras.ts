import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cleanStaleTemps, makeTempDirBeside, replaceDir } from '../lib/atomic-dir.js';
import { fsError, LambdaMlError } from '../lib/errors.js';
import { assertReplaceable } from './assert-replaceable.js';
import { buildModel, listLayers } from './build-model.js';
import { loadBoundWeights } from './compare.js';
import { openKeras } from './open-keras.js';
import { prepareSource } from './prepared-source.js';
import {
  bindingTensors,
  modesOf,
  planQuantization,
  type QuantizationReport,
  type QuantizeOptions,
} from './quantize-check.js';
import type { Grid } from './quantize.js';
import type { ConvertReport } from './types.js';
import { writeTfjsModel, type WeightModes } from './write-tfjs.js';

// PROD silences TF.js's "install tfjs-node" banner on stderr: a CLI's output is not the place for it.
tf.env().set('PROD', true);

/** Options of `convertKeras`. */
export type ConvertOptions = QuantizeOptions;

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** Counts real layers (nested model wrappers excluded) in a Keras config. */
export const countLayers = (modelConfig: Record<string, unknown>) =>
  listLayers(modelConfig).filter((layer) => !MODEL_CLASSES.has(layer.className)).length;

/**
 * Converts a Keras `.h5` (Keras 2 / tf.keras) or `.keras` (Keras 3) model into a TF.js layers model folder,
 * written atomically. With `quantize`, the dtypes are
 * planned or checked on calibration inputs first (quantize-check.ts), so a refused plan writes nothing.
 */
export async function convertKeras(
  inPath: string,
  outDir: string,
  options: ConvertOptions = {},
): Promise<ConvertReport> {
  const out = resolve(outDir);
  await assertReplaceable(out);
  await cleanStaleTemps(out);
  const source = await openKeras(inPath);
  let temp: string | undefined;
  let createdParent: string | undefined;
  try {
    await tf.ready();
    const prepared = await onCpu(() => prepareSource(source, inPath));
    const skeleton = await onCpu(() => buildModel(prepared.modelConfig, inPath));
    let written;
    let weights = 0;
    let quantization: QuantizationReport | undefined;
    try {
      const bindings = prepared.bind(skeleton);
      weights = bindings.length;
      let modes: WeightModes;
      let grids: ReadonlyMap<string, Grid> | undefined;
      if (options.quantize) {
        // the search writes the float weights itself (by slices, straight into the model); integer ones as stored
        const tensors = bindingTensors(bindings, inPath);
        const searched = new Set(tensors.map((tensor) => tensor.name));
        const others = bindings.filter((binding) => !searched.has(binding.name));
        loadBoundWeights(skeleton, others, inPath);
        const plan = await planQuantization(skeleton, tensors, options, inPath);
        quantization = plan.report;
        modes = modesOf(plan.dtypes);
        grids = plan.grids;
      }
      // mkdir returns the first folder it created: removed again if the write fails, so a failed run leaves nothing.
      createdParent = await mkdir(dirname(out), { recursive: true }).catch((error) => {
        throw fsError(error, dirname(out), 'create');
      });
      temp = await makeTempDirBeside(out);
      written = await writeTfjsModel(prepared.source, bindings, temp, modes, inPath, grids).catch((error) => {
        throw writeError(error, out);
      });
      await replaceDir(temp, out);
      temp = undefined;
      createdParent = undefined;
    } finally {
      skeleton.dispose();
    }
    return {
      format: source.format,
      kerasVersion: source.kerasVersion,
      layers: countLayers(prepared.modelConfig),
      weights,
      params: written.params,
      bytesBefore: written.bytesBefore,
      bytesAfter: written.bytesAfter,
      quantize: options.quantize,
      maxAbsDiff: quantization?.maxAbsDiff ?? 0,
      quantization,
      outDir: out,
      files: written.files,
      notes: prepared.notes,
    };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
    if (createdParent) await rm(createdParent, { recursive: true, force: true });
    await source.close();
  }
}

/**
 * Builds models on the cpu backend: their zero-initialised weights are then untouched JS arrays (no memory until
 * written) rather than the whole model of zeros written into the wasm heap, which never shrinks and would fragment as
 * the search writes the real weights in (docs/performance.md, "Keras conversion"). The search's writes are wasm
 * tensors.
 */
async function onCpu<T>(build: () => Promise<T>): Promise<T> {
  const active = tf.getBackend();
  if (active === 'cpu') return build();
  await tf.setBackend('cpu');
  try {
    return await build();
  } finally {
    await tf.setBackend(active);
  }
}

/** A raw fs error while writing the model (a full disk, a size limit) is one line naming OUT, not a bug. */
function writeError(error: unknown, out: string): unknown {
  const errno = error as NodeJS.ErrnoException;
  if (error instanceof LambdaMlError || typeof errno?.syscall !== 'string') return error;
  const hint = errno.code === 'ENOSPC' ? 'free disk space, or convert into a folder on another disk' : undefined;
  return fsError(error, out, 'write', hint);
}
