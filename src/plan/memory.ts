/**
 * Memory estimates (docs/design.md §2). Documented in docs/budget.md; all integer bytes. Each runtime's own base
 * (the runtime with its ML stack imported) is in its record: src/runtimes/node.ts, python.ts `baseMemoryBytes`.
 */
import { MiB } from '../lib/limits.js';

/** One decoded image, its resized tensor and activations of a MobileNet-sized model at batch 1. */
export const WORKING_SET_BYTES = 64 * MiB;

/**
 * What an ONNX Runtime session takes beyond its model's float32 weights (docs/handler.md, "Choosing a backend").
 * `npm run bench onnx` (test/bench/onnx.ts, onnxruntime-node 1.30.0, 2026-12-01) measures the RSS growth of
 * InferenceSession.create + the first run in a fresh Node as the weights plus an arena: 10.5 MB + 59.2 MB for the
 * nsfwjs MobileNetV2, 102.5 MB + 198.6 MB for the ResNet50-shaped model, at 1 and 2 threads alike; loading the
 * library itself adds ~10 MiB (require('onnxruntime-node') in a fresh Node). The arena grows with the model (the
 * session keeps its own copy of the initializers and pre-packs the convolution weights), so it is a fixed part and
 * a part per weight byte fitted to both models, rounded up: 1.55 bytes per weight byte + 56 MiB with the library.
 */
export const ONNX_SESSION = { fixedBytes: 56 * MiB, perWeightByte: 1.55 } as const;

/** Memory of a model on the onnx backend: its float32 weights plus its session (ONNX_SESSION). */
export const onnxMemoryBytes = (weightBytes: number): number =>
  Math.ceil(weightBytes * (1 + ONNX_SESSION.perWeightByte) + ONNX_SESSION.fixedBytes);
