/** `convert DIR OUT --quantize ...` for a TF.js layers folder: re-quantises its weights (docs/convert.md). */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cleanStaleTemps, makeTempDirBeside, replaceDir } from '../lib/atomic-dir.js';
import { inputError } from '../lib/errors.js';
import { assertReplaceable } from './assert-replaceable.js';
import { modesOf, planQuantization, type QuantizeOptions } from './quantize-check.js';
import type { SearchTensor } from './quantize-auto.js';
import { memoryTensor } from './tensor-source.js';
import { fileModelHandler } from './tfjs-io.js';
import type { WeightBinding } from './types.js';
import { writeTfjsModel } from './write-tfjs.js';

/** What `convertTfjs` did (sizes in bytes). */
export interface TfjsConvertReport {
  readonly format: 'tfjs-layers';
  readonly weights: number;
  readonly params: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly quantize: QuantizeOptions['quantize'];
  readonly maxAbsDiff: number;
  readonly quantization: import('./quantize-report.js').QuantizationReport;
  readonly outDir: string;
  readonly files: readonly string[];
}

type Topology = {
  keras_version?: string;
  backend?: string;
  model_config?: Record<string, unknown>;
  class_name?: string;
};

/**
 * The Keras model config of a layers model.json: under `model_config` as the Python converter writes it, or the
 * topology itself (`{ class_name, config }`) as TF.js's own `model.save` writes it.
 */
function modelConfigOf(topology: Topology | undefined): Record<string, unknown> | undefined {
  if (topology?.model_config) return topology.model_config;
  if (typeof topology?.class_name !== 'string') return undefined;
  const { keras_version: _version, backend: _backend, ...config } = topology;
  return config;
}

export async function convertTfjs(inDir: string, outDir: string, options: QuantizeOptions): Promise<TfjsConvertReport> {
  const out = resolve(outDir);
  if (out === resolve(inDir))
    throw inputError(`OUT is the input folder ${inDir}`, 'write the quantised model into another folder');
  await assertReplaceable(out);
  await cleanStaleTemps(out);
  await tf.ready();
  const handler = fileModelHandler(inDir);
  const artifacts = await handler.load!().catch((error: Error) => {
    throw inputError(
      `${inDir}: cannot read the TF.js model (${error.message.split('\n')[0]})`,
      'point IN at a folder with model.json and its .bin shards',
    );
  });
  const topology = artifacts.modelTopology as Topology | undefined;
  const modelConfig = modelConfigOf(topology);
  if (artifacts.format === 'graph-model' || !topology || !modelConfig) {
    throw inputError(
      `${inDir}: not a TF.js layers model (graph models are not re-quantised)`,
      'convert the Keras model instead, or use the graph model as it is',
    );
  }
  const specs = artifacts.weightSpecs ?? [];
  const decoded = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, specs);
  const values = new Map<string, Float32Array>();
  for (const spec of specs) {
    if (spec.dtype !== 'float32')
      throw inputError(`${inDir}: weight ${spec.name} is ${spec.dtype}`, 'only float32 weights can be quantised');
    values.set(spec.name, decoded[spec.name].dataSync() as Float32Array);
  }
  tf.dispose(Object.values(decoded));
  const bindings: WeightBinding[] = specs.map((spec) => ({
    name: spec.name,
    shape: spec.shape,
    dataset: memoryTensor(spec.name, values.get(spec.name)!, spec.shape),
  }));
  const tensors: SearchTensor[] = specs.map((spec) => ({
    name: spec.name,
    count: values.get(spec.name)!.length,
    read: () => values.get(spec.name)!,
  }));
  const model = await tf.loadLayersModel(handler);
  let plan;
  try {
    plan = await planQuantization(model, tensors, options, inDir);
  } finally {
    model.dispose();
  }
  const bytesBefore = specs.reduce(
    (sum, spec) =>
      sum + values.get(spec.name)!.length * ({ uint8: 1, float16: 2 }[spec.quantization?.dtype as string] ?? 4),
    0,
  );
  const createdParent = await mkdir(dirname(out), { recursive: true });
  const temp = await makeTempDirBeside(out);
  try {
    const source = {
      kerasVersion: topology.keras_version ?? 'unknown',
      backend: topology.backend ?? 'tensorflow',
      modelConfig,
    };
    const written = await writeTfjsModel(source, bindings, temp, modesOf(plan.dtypes), inDir, plan.grids);
    await replaceDir(temp, out);
    return {
      format: 'tfjs-layers',
      weights: specs.length,
      params: written.params,
      bytesBefore,
      bytesAfter: written.bytesAfter,
      quantize: options.quantize,
      maxAbsDiff: plan.report.maxAbsDiff,
      quantization: plan.report,
      outDir: out,
      files: written.files,
    };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (createdParent) await rm(createdParent, { recursive: true, force: true });
    throw error;
  }
}
