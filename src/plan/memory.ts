/**
 * Memory estimates (docs/design.md §2). Documented in docs/budget.md; all integer bytes. Each runtime's own base
 * (the runtime with its ML stack imported) is in its record: src/runtimes/node.ts, python.ts `baseMemoryBytes`.
 */
import { MiB } from '../lib/limits.js';

/** One decoded image, its resized tensor and activations of a MobileNet-sized model at batch 1. */
export const WORKING_SET_BYTES = 64 * MiB;
