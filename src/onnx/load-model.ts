// What the ONNX export starts from: the TF.js layers model `convert` would write, with its float32 weights loaded.
// A Keras file goes through convert's own readers and rewrites (prepare-model.ts), so both outputs share them; a
// TF.js layers folder is loaded as the handler loads it (quantised weights come back dequantised).
import { stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { fsError, inputError } from '../lib/errors.js';
import { buildModel } from '../convert/build-model.js';
import { loadBoundWeights } from '../convert/compare.js';
import { openKeras } from '../convert/open-keras.js';
import { prepareSource } from '../convert/prepared-source.js';
import { fileModelHandler } from '../convert/tfjs-io.js';

// PROD silences TF.js's "install tfjs-node" banner on stderr, as convert-keras.ts does.
tf.env().set('PROD', true);

/** A model ready to export. Dispose `model` after use. */
export interface LoadedModel {
  readonly model: tf.LayersModel;
  readonly source: 'keras-h5' | 'keras-v3' | 'tfjs-layers';
  readonly kerasVersion: string | undefined;
  /** Layers convert dropped or rewrote, and weights that were dequantised. */
  readonly notes: readonly string[];
}

/** Loads a Keras `.h5`/`.keras` file or a TF.js layers folder (`inPath` absolute; `label` is how errors name it). */
export async function loadForExport(inPath: string, label: string): Promise<LoadedModel> {
  const found = await stat(inPath).catch((error) => {
    throw fsError(error, label);
  });
  await tf.ready();
  return found.isDirectory() ? loadTfjsFolder(inPath, label) : loadKeras(inPath, label);
}

async function loadKeras(inPath: string, label: string): Promise<LoadedModel> {
  const source = await openKeras(inPath);
  try {
    const prepared = await prepareSource(source, label);
    const model = await buildModel(prepared.modelConfig, label);
    try {
      loadBoundWeights(model, prepared.bind(model), label);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return { model, source: source.format, kerasVersion: source.kerasVersion, notes: prepared.notes };
  } finally {
    await source.close();
  }
}

async function loadTfjsFolder(dir: string, label: string): Promise<LoadedModel> {
  const handler = fileModelHandler(dir);
  const artifacts = await handler.load!().catch((error: Error) => {
    throw inputError(
      `${label}: cannot read the TF.js model (${error.message.split('\n')[0]})`,
      'point IN at a folder with model.json and its .bin shards, or at a Keras .h5/.keras file',
    );
  });
  // the Python converter nests the Keras config under model_config; TF.js's own model.save() writes it bare
  type Topology = { model_config?: unknown; class_name?: unknown; keras_version?: string };
  const topology = artifacts.modelTopology as Topology | undefined;
  if (artifacts.format === 'graph-model' || (!topology?.model_config && !topology?.class_name)) {
    throw inputError(
      `${label}: not a TF.js layers model (graph models have no ONNX export)`,
      'convert the Keras model the graph model came from, or keep the graph model on the wasm backend',
    );
  }
  const quantised = (artifacts.weightSpecs ?? []).filter((spec) => spec.quantization);
  const model = await tf.loadLayersModel({ load: async () => artifacts }).catch((error: Error) => {
    throw inputError(`${label}: TF.js cannot load this model (${error.message.split('\n')[0]})`, undefined, error);
  });
  const kinds = [...new Set(quantised.map((spec) => spec.quantization!.dtype))].join('/');
  const notes = quantised.length > 0 ? [`${quantised.length} ${kinds} weights dequantised to float32`] : [];
  return { model, source: 'tfjs-layers', kerasVersion: topology.keras_version, notes };
}
