/** Picks the TF.js backend: wasm (default), cpu as the fallback, tensorflow (tfjs-node) only when it is installed. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tfjs from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Backend } from '../types.js';
import type { RequireFrom } from './require-from.js';

export type Tf = typeof tfjs;

/**
 * The one .wasm build Node loads: tfjs-backend-wasm reports no multithread support under Node (no cross-origin
 * isolation) and every Node we run on has SIMD, so the threaded and plain builds are never read.
 */
export const WASM_FILE = 'tfjs-backend-wasm-simd.wasm';

/** What selectBackend chose, with why when it is not what was asked. */
export interface BackendChoice {
  readonly requested: Backend;
  readonly active: string;
  readonly warnings: readonly string[];
  readonly ms: number;
  /** The TF.js to run models on: the given one, or @tensorflow/tfjs-node's own when the tensorflow backend is on. */
  readonly tf: Tf;
}

/**
 * The folder holding WASM_FILE: beside this module in the bundle (an ESM bundle has no __dirname, so it is found
 * from import.meta.url), else the package's own dist/ (the unbundled sources under tsx, in tests).
 */
export function wasmDir(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  if (existsSync(join(here, WASM_FILE))) return here;
  return dirname(createRequire(moduleUrl).resolve('@tensorflow/tfjs-backend-wasm'));
}

async function tryWasm(tf: Tf): Promise<void> {
  // A plain path prefix (not a URL) makes emscripten read the binary with fs.
  setWasmPaths(`${wasmDir()}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
}

/**
 * @tensorflow/tfjs-node registers its backend in its own TF.js (the bundle's is inlined), so its exported TF.js is
 * the one models then run on. It needs a native build for the function's CPU: loaded only if some root provides it.
 */
async function tryTensorflow(tf: Tf, req: RequireFrom): Promise<Tf | null> {
  const node = req<Tf>('@tensorflow/tfjs-node');
  const target = typeof node?.setBackend === 'function' ? node : tf;
  target.env().set('PROD', true);
  return (await target.setBackend('tensorflow')) ? target : null;
}

/** Activates `requested`, falling back tensorflow -> wasm -> cpu. */
export async function selectBackend(tf: Tf, req: RequireFrom, requested: Backend): Promise<BackendChoice> {
  const t0 = performance.now();
  tf.env().set('PROD', true); // no "install tfjs-node" banner in every cold start's log
  const warnings: string[] = [];
  const done = (used: Tf = tf) => ({
    requested,
    active: used.getBackend(),
    warnings,
    ms: Math.round(performance.now() - t0),
    tf: used,
  });
  if (requested === 'tensorflow') {
    try {
      const node = await tryTensorflow(tf, req);
      if (node) return done(node);
      warnings.push('backend "tensorflow" did not initialise; using wasm');
    } catch (error) {
      const why = (error as Error).message.split('\n')[0];
      warnings.push(`backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed (${why}); using wasm`);
    }
  }
  if (requested !== 'cpu') {
    try {
      await tryWasm(tf);
      return done();
    } catch (error) {
      warnings.push(`backend "wasm" failed (${(error as Error).message}); using cpu, which is ~15x slower`);
    }
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('no TF.js backend could be initialised (wasm and cpu failed)');
  return done();
}
