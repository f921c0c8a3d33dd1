/** Runs one model on one image: top-K labels above the threshold. */
import type { Tf } from './backend.js';
import type { LoadedModel } from './models.js';
import { channelCount } from './preprocess.js';

/** A label and its score. */
export interface Prediction {
  readonly label: string;
  readonly score: number;
}

/** Top-K of a score vector, highest first, keeping scores >= threshold. */
export function topK(scores: ArrayLike<number>, labels: readonly string[], k: number, threshold = 0): Prediction[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return idx
    .slice(0, Math.max(0, k))
    .filter((i) => scores[i] >= threshold)
    .map((i) => ({ label: labels[i] ?? `class_${i}`, score: scores[i] }));
}

/**
 * Predicts on a [1, h, w, channels] input; on TF.js every intermediate tensor is released (tf.tidy), the output
 * after reading it.
 */
export async function classify(tf: Tf, model: LoadedModel, input: Float32Array): Promise<Prediction[]> {
  const { width, height, channels } = model.spec.input;
  const shape = [1, height, width, channelCount(channels)] as const;
  const { spec } = model;
  // The same Float32Array (preprocess.ts) for both backends: ONNX models keep Keras's NHWC input (src/onnx).
  if (model.onnx) return topK(await model.onnx.run(input, shape), spec.labels, spec.topK, spec.threshold);
  const predict = model.predict!;
  const output = tf.tidy(() => predict(tf.tensor4d(input, [...shape])).reshape([-1]));
  try {
    const scores = await output.data();
    return topK(scores, spec.labels, spec.topK, spec.threshold);
  } finally {
    output.dispose();
  }
}
