/** Picks the TF.js backend: wasm (default), cpu as the fallback, tensorflow (tfjs-node) only when it is installed. */
import { dirname } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Backend } from '../types.js';
import type { RequireFrom } from './require-from.js';

export type Tf = typeof tfjs;

/** What selectBackend chose, with why when it is not what was asked. */
export interface BackendChoice {
  readonly requested: Backend;
  readonly active: string;
  readonly warnings: readonly string[];
  readonly ms: number;
}

async function tryWasm(tf: Tf, req: RequireFrom): Promise<void> {
  const wasm = req<{ setWasmPaths: (prefix: string) => void }>('@tensorflow/tfjs-backend-wasm');
  // The .wasm binaries sit next to the package's main file; a plain path prefix makes emscripten read them with fs.
  wasm.setWasmPaths(`${dirname(req.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  // tfjs-backend-wasm reports no multithread support under Node (no cross-origin isolation), so it runs the SIMD build.
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
}

/**
 * Activates `requested`, falling back wasm -> cpu. `tensorflow` needs @tensorflow/tfjs-node (native, x86_64/arm64
 * glibc):
 * loaded only if some root provides it, else a warning and wasm.
 */
export async function selectBackend(tf: Tf, req: RequireFrom, requested: Backend): Promise<BackendChoice> {
  const t0 = performance.now();
  tf.env().set('PROD', true); // no "install tfjs-node" banner in every cold start's log
  const warnings: string[] = [];
  const done = () => ({ requested, active: tf.getBackend(), warnings, ms: Math.round(performance.now() - t0) });
  if (requested === 'tensorflow') {
    try {
      req('@tensorflow/tfjs-node');
      if (await tf.setBackend('tensorflow')) return done();
      warnings.push('backend "tensorflow" did not initialise; using wasm');
    } catch (error) {
      warnings.push(
        `backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed (${(error as Error).message.split('\n')[0]}); using wasm`,
      );
    }
  }
  if (requested !== 'cpu') {
    try {
      await tryWasm(tf, req);
      return done();
    } catch (error) {
      warnings.push(`backend "wasm" failed (${(error as Error).message}); using cpu, which is ~15x slower`);
    }
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('no TF.js backend could be initialised (wasm and cpu failed)');
  return done();
}
