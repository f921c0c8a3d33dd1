/** Memory and /tmp estimates (docs/design.md §2). Documented in docs/budget.md; all integer bytes. */
import { MiB } from '../lib/limits.js';

/** Node 20 + TF.js (wasm backend) + sharp + the AWS SDK, resident after a warm-up: measured ~170 MiB, rounded up. */
export const NODE_BASE_BYTES = 192 * MiB;
/** CPython + TensorFlow 1.x + Keras imported: ~350 MiB in the source scenario, rounded up. */
export const PYTHON_BASE_BYTES = 384 * MiB;
/** One decoded image, its resized tensor and activations of a MobileNet-sized model at batch 1. */
export const WORKING_SET_BYTES = 64 * MiB;
