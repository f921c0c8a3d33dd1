/** config `backend` and `models[].backend` (docs/config.md, "backend"). */
import { configError } from '../lib/errors.js';
import type { Backend, TfjsBackend } from '../types.js';
import { enumAt, type Raw } from './schema.js';

/** Every value `backend` takes; `auto` (the default) is onnx when every model converts, else wasm. */
export const BACKENDS: readonly Backend[] = ['auto', 'onnx', 'wasm', 'cpu', 'tensorflow'];
/** The backends that run a model on TF.js. */
export const TFJS_BACKENDS: readonly TfjsBackend[] = ['wasm', 'cpu', 'tensorflow'];

export const isTfjsBackend = (backend: Backend | null | undefined): backend is TfjsBackend =>
  TFJS_BACKENDS.includes(backend as TfjsBackend);

/** The function's `backend` (default auto). */
export const functionBackend = (raw: Raw): Backend => enumAt<Backend>(raw, 'backend', '', BACKENDS, 'auto');

/** `models[i].backend`, or null when the model takes the function's. */
export function modelBackend(raw: Raw, at: string): Backend | null {
  return raw.backend === undefined ? null : enumAt<Backend>(raw, 'backend', at, BACKENDS, 'auto');
}

/**
 * TF.js has one backend per process: every TF.js backend named (the function's, each model's) must be the same one.
 * onnx and auto mix with any of them.
 */
export function checkOneTfjsBackend(backend: Backend, models: readonly { readonly backend?: Backend | null }[]): void {
  const named = [
    ...(isTfjsBackend(backend) ? [{ at: 'backend', value: backend }] : []),
    ...models.flatMap((m, i) => (isTfjsBackend(m.backend) ? [{ at: `models[${i}].backend`, value: m.backend }] : [])),
  ];
  const other = named.find((n) => n.value !== named[0].value);
  if (other) {
    throw configError(
      `${other.at} is "${other.value}" but ${named[0].at} is "${named[0].value}": TF.js runs one backend per function`,
      `use "${named[0].value}" in both, or "onnx" for the model that should run on ONNX Runtime`,
    );
  }
}
