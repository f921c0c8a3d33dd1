/**
 * The cold start's backends: TF.js (selectBackend) when some model runs on it, ONNX Runtime (imported once) when
 * some model runs on onnx; a function whose models all run on onnx never starts TF.js's wasm.
 */
import type { RuntimeConfig } from '../types.js';
import { selectBackend, type Tf } from './backend.js';
import { isOnnxSpec, type OnnxOptions } from './models.js';
import { onnxThreads } from './onnx-threads.js';
import { loadOnnxRuntime, type OrtModule } from './onnx-session.js';
import type { RequireFrom } from './require-from.js';

/** What startBackends started. */
export interface Backends {
  /** The TF.js models run on (the given one, or tfjs-node's with the tensorflow backend). */
  readonly tf: Tf;
  /** For the cold-start log: "onnx", the TF.js backend ("wasm"), or both ("onnx+wasm"). */
  readonly active: string;
  /** Each model's backend, by name. */
  readonly byModel: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
  /** ms: TF.js's backend init plus the ONNX Runtime import. */
  readonly ms: number;
  /** Set when some model runs on onnx. */
  readonly onnx: OnnxOptions | undefined;
}

/** What starting the backends needs. */
export interface BackendDeps {
  readonly config: RuntimeConfig;
  readonly tf: Tf;
  readonly require: RequireFrom;
  readonly env?: NodeJS.ProcessEnv;
  /** Imports onnxruntime-node (default: the bundle's import, resolved beside index.mjs). */
  readonly ort?: () => Promise<OrtModule>;
}

/** Starts the backends the runtime config's models need. */
export async function startBackends(deps: BackendDeps): Promise<Backends> {
  const t0 = performance.now();
  const specs = deps.config.models;
  const onOnnx = specs.some(isOnnxSpec);
  const onTfjs = specs.length === 0 || specs.some((spec) => !isOnnxSpec(spec));
  const tfjs = onTfjs ? await selectBackend(deps.tf, deps.require, deps.config.backend) : null;
  let onnx: OnnxOptions | undefined;
  if (onOnnx) {
    const ort = await (deps.ort ?? loadOnnxRuntime)();
    onnx = { ort: async () => ort, threads: onnxThreads(deps.env ?? process.env) };
  }
  const active = [...(onOnnx ? ['onnx'] : []), ...(tfjs ? [tfjs.active] : [])].join('+');
  const byModel = Object.fromEntries(specs.map((s) => [s.name, isOnnxSpec(s) ? 'onnx' : (tfjs?.active ?? '')]));
  return {
    tf: tfjs?.tf ?? deps.tf,
    active,
    byModel,
    warnings: tfjs?.warnings ?? [],
    ms: Math.round(performance.now() - t0),
    onnx,
  };
}
