/**
 * Tries one model through the ONNX exporter (src/onnx): the layers it cannot take, or the encoded file's bytes and
 * float32 weights. With `check` (package) the export is also run in ONNX Runtime against TF.js, as `convert ...
 * OUT.onnx` does, and its bytes are kept to be staged. TF.js and the exporter load only when a model is tried.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { LambdaMlError } from '../lib/errors.js';
import { ONNX_RUNTIME_GLIBC } from '../measure/native-onnx.js';
import type { LambdaRuntime } from '../runtimes/table.js';
import type { ModelConfig, ModelScan } from '../types.js';

/**
 * Why ONNX Runtime cannot load on the function's OS, or null: libonnxruntime.so.1 needs glibc 2.28
 * (ONNX_RUNTIME_GLIBC), and the Amazon Linux 2 runtimes (the Node 18 runtime and older) have 2.26.
 */
export function onnxRuntimeBlocked(runtime: LambdaRuntime): string | null {
  const needs = ONNX_RUNTIME_GLIBC;
  const has = runtime.glibc;
  if (needs[0] < has[0] || (needs[0] === has[0] && needs[1] <= has[1])) return null;
  return `onnxruntime-node needs glibc ${needs.join('.')}; ${runtime.id} (${runtime.os}) has ${has.join('.')}`;
}

/** What trying the export found. */
export interface OnnxProbe {
  /** Why it does not convert, one line naming the layers (null: it converts). */
  readonly problems: string | null;
  /** Every layer that kept it off, one line each (the error's details). */
  readonly layers: readonly string[];
  /** The .onnx file's bytes, when it converts. */
  readonly bytes?: number;
  /** The float32 weights (initializers) in it. */
  readonly weightBytes?: number;
  /** The file itself, with `check` (package stages it). */
  readonly data?: Uint8Array;
}

/** How many layer names a note shows per class. */
const SHOWN = 3;

const refused = (problems: string, layers: readonly string[] = []): OnnxProbe => ({ problems, layers });

/** The probe's layer lines, for one error's details. */
export const onnxProblemsOf = (probe: OnnxProbe, model: string): string[] =>
  probe.layers.length > 0
    ? probe.layers.map((line) => `model ${model}: ${line}`)
    : [`model ${model}: ${probe.problems}`];

let wasm: Promise<void> | null = null;

/** TF.js on wasm for the export's load and check (cpu is ~15x slower), once per process. */
async function useWasm(): Promise<void> {
  wasm ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const { selectBackend } = await import('../handler/backend.js');
    const req = Object.assign(createRequire(import.meta.url), { roots: [] as string[] });
    await selectBackend(tf, req, 'wasm');
  })();
  return wasm;
}

/** Tries `model` (its scan says where its files are and what format they have). */
export async function probeOnnx(model: ModelConfig, scan: ModelScan, options: { check?: boolean } = {}) {
  if (model.path === null) return refused('it lives only in S3 (no local "path" to convert)');
  if (scan.format === 'tfjs-graph') return refused('a TF.js graph model has no ONNX export (only layers models do)');
  await useWasm();
  const onnx = await import('../onnx/index.js');
  const label = `model ${model.name}`;
  // A TF.js model configured by its model.json: the exporter reads the folder.
  const path = model.path.endsWith('.json') ? dirname(model.path) : model.path;
  let loaded;
  try {
    loaded = await onnx.loadForExport(path, label);
  } catch (error) {
    if (error instanceof LambdaMlError && error.code === 'input') return refused(error.message);
    throw error;
  }
  try {
    const problems = onnx.exportProblems(loaded.model);
    if (problems.length > 0) {
      const byClass = new Map<string, string[]>();
      for (const p of problems) byClass.set(p.group, [...(byClass.get(p.group) ?? []), p.name]);
      const summary = [...byClass]
        .map(([cls, names]) => {
          const shown = names.slice(0, SHOWN).join(', ') + (names.length > SHOWN ? ` +${names.length - SHOWN}` : '');
          return `${names.length} ${cls} (${shown})`;
        })
        .join(', ');
      const count = problems.length === 1 ? '1 layer has' : `${problems.length} layers have`;
      const layers = problems.map((p) => `${p.name} (${p.group}): ${p.reason}`);
      return refused(`${count} no ONNX export: ${summary}`, layers);
    }
    const exported = onnx.exportModel(loaded.model, label);
    const data = onnx.encodeModel(exported.message);
    const weightBytes = exported.message.graph.initializer.reduce((t, i) => t + (i.raw_data?.byteLength ?? 0), 0);
    if (options.check) {
      const { checkExport } = await import('../onnx/check-export.js');
      const names = { inputs: exported.inputs.map((v) => v.name), outputs: exported.outputs.map((v) => v.name) };
      await checkExport(loaded.model, data, names, label);
    }
    return { problems: null, layers: [], bytes: data.length, weightBytes, ...(options.check ? { data } : {}) };
  } finally {
    loaded.model.dispose();
  }
}
