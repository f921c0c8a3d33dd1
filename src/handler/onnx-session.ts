/**
 * The onnx backend: one ONNX Runtime InferenceSession per model, created on first use from the model's bytes and
 * kept for the warm invocations (models.ts caches the LoadedModel holding it). onnxruntime-node is a native addon:
 * the bundle imports it (external), and `package` ships it for the function's CPU beside index.mjs only when some
 * model runs on onnx (docs/handler.md, "Choosing a backend").
 */
import type * as Ort from 'onnxruntime-node';
import type { ModelBackend } from '../types.js';

export type OrtModule = typeof Ort;

/** The file `package` stages an ONNX model as (pipeline/model-backends.ts writes it). */
export const ONNX_FILE = 'model.onnx';

let loading: Promise<OrtModule> | null = null;

/** onnxruntime-node, imported once (a failed import is retried on the next call). */
export function loadOnnxRuntime(): Promise<OrtModule> {
  // A CommonJS package: its exports are the namespace's default (and, through Node's lexer, most of its names).
  loading ??= import('onnxruntime-node').then((mod) => (mod as unknown as { default?: OrtModule }).default ?? mod);
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** A model's session, ready to run on the preprocessed NHWC input. */
export interface OnnxModel {
  readonly backend: Extract<ModelBackend, 'onnx'>;
  /** Scores of the first output for one [1, height, width, channels] input (the preprocess.ts Float32Array). */
  readonly run: (input: Float32Array, shape: readonly number[]) => Promise<Float32Array>;
  readonly release: () => Promise<void>;
  readonly threads: number;
}

/**
 * Creates the session from the model bytes (or the file, when they were not downloaded by this start): intra-op
 * threads as given (onnx-threads.ts), one inter-op thread (the graph has one branch at a time), sequential.
 */
export async function createOnnxModel(
  ort: OrtModule,
  source: Uint8Array | string,
  threads: number,
): Promise<OnnxModel> {
  const options: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const session =
    typeof source === 'string'
      ? await ort.InferenceSession.create(source, options)
      : await ort.InferenceSession.create(source, options);
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const run = async (input: Float32Array, shape: readonly number[]) => {
    const results = await session.run({ [inputName]: new ort.Tensor('float32', input, [...shape]) });
    const out = results[outputName];
    try {
      return Float32Array.from(out.data as Float32Array);
    } finally {
      for (const tensor of Object.values(results)) tensor.dispose();
    }
  };
  return { backend: 'onnx', run, release: () => session.release(), threads };
}
