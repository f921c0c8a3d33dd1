/**
 * Which backend runs each model (docs/config.md, "backend"): a TF.js backend as asked, onnx when asked and the model
 * converts (exit 2 listing the layers otherwise), and `auto` (the default) onnx when every model on auto converts,
 * else wasm with a note naming the layers that kept it off. Converting is tried with the ONNX exporter (src/onnx):
 * for `budget` to count the .onnx file's bytes and its session's memory, for `package` (keepIn) to write the checked
 * model.onnx that ships. A runtime whose handler is the user's own (Python) has no backend.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTfjsBackend } from '../config/validate-backend.js';
import { ONNX_FILE } from '../handler/onnx-session.js';
import { LambdaMlError } from '../lib/errors.js';
import { onnxMemoryBytes } from '../plan/memory.js';
import type { RuntimeRecord } from '../runtimes/record.js';
import { creatableRuntimes, type LambdaRuntime } from '../runtimes/table.js';
import type { Backend, Config, ModelConfig, ModelScan, Scan, TfjsBackend } from '../types.js';
import { onnxProblemsOf, onnxRuntimeBlocked, probeOnnx, type OnnxProbe } from './onnx-probe.js';

/** What chooseBackends decided: the scan with every model's backend (and ONNX sizes), and the notes for the report. */
export interface ChosenBackends {
  readonly scan: Scan;
  readonly notes: readonly string[];
}

interface Request {
  readonly model: ModelConfig;
  readonly scan: ModelScan;
  readonly requested: Backend;
  readonly at: string; // the config field that asked
}

/** Sets `backend` on every scanned model; writes `<keepIn>/models/<name>/model.onnx` for those on onnx. */
export async function chooseBackends(
  config: Config,
  scan: Scan,
  record: RuntimeRecord,
  options: { readonly keepIn?: string; readonly runtime?: LambdaRuntime } = {},
): Promise<ChosenBackends> {
  const requests = scan.models.map((m): Request => {
    const index = config.models.findIndex((c) => c.name === m.name);
    const model = config.models[index];
    const own = model?.backend ?? null;
    return { model, scan: m, requested: own ?? config.backend, at: own ? `models[${index}].backend` : 'backend' };
  });
  if (record.loadsKeras) {
    // Your own handler loads the model (Python): nothing of ours runs it, so there is nothing to choose.
    const asked = requests.find((r) => r.requested === 'onnx' || (r.requested !== 'auto' && r.at !== 'backend'));
    if (asked)
      throw new LambdaMlError(
        'input',
        `${asked.at} is "${asked.requested}", but a ${record.title} function runs your own handler`,
        'drop "backend": it chooses how the Node handler runs models',
      );
    return { scan, notes: [] };
  }
  const tried = new Map<string, OnnxProbe>();
  const check = options.keepIn !== undefined; // package: run the export in ONNX Runtime before it ships
  const blocked = options.runtime ? onnxRuntimeBlocked(options.runtime) : null;
  const asked = requests.find((r) => r.requested === 'onnx');
  if (blocked && asked) {
    const newer = creatableRuntimes(options.runtime?.language).map((r) => r.id);
    const hint = `move function.runtime to a runtime on Amazon Linux 2023 (${newer.join(', ')}), or use "wasm"`;
    throw new LambdaMlError('input', `${asked.at} is "onnx", but ${blocked}`, hint);
  }
  for (const r of requests) {
    if (r.requested !== 'auto' && r.requested !== 'onnx') continue;
    tried.set(r.model.name, blocked ? { problems: blocked, layers: [] } : await probeOnnx(r.model, r.scan, { check }));
  }
  const problemsOf = (r: Request) => tried.get(r.model.name)?.problems ?? null;
  const refused = requests.filter((r) => r.requested === 'onnx' && problemsOf(r) !== null);
  if (refused.length > 0) throw onnxRefused(refused, tried);
  const auto = requests.filter((r) => r.requested === 'auto');
  const blockers = auto.filter((r) => problemsOf(r) !== null);
  const tfjs = tfjsBackendOf(config);
  const notes = blockers.map((r) => `backend auto: model ${r.model.name} runs on ${tfjs}: ${problemsOf(r)}`);
  const others = auto.filter((r) => !blockers.includes(r)).map((r) => r.model.name);
  if (blockers.length > 0 && others.length > 0) {
    notes.push(`backend auto: ${others.join(', ')} on ${tfjs} too (auto is onnx only when every model converts)`);
  }
  const models: ModelScan[] = [];
  for (const r of requests) {
    const onOnnx = r.requested === 'onnx' || (r.requested === 'auto' && blockers.length === 0);
    if (!onOnnx) {
      const backend = r.requested === 'auto' ? tfjs : (r.requested as TfjsBackend);
      const own = blockers.indexOf(r);
      const note = r.requested !== 'auto' ? undefined : own >= 0 ? notes[own] : notes[notes.length - 1];
      models.push({ ...r.scan, backend, ...(note ? { backendNote: note } : {}) });
      continue;
    }
    const probe = tried.get(r.model.name)!;
    if (options.keepIn) await stageOnnx(options.keepIn, r.model.name, probe);
    models.push({
      ...r.scan,
      backend: 'onnx',
      bytes: probe.bytes!,
      memoryBytes: onnxMemoryBytes(probe.weightBytes!),
      quantization: null, // ONNX models are written float32 (dequantised)
    });
  }
  return { scan: { ...scan, models }, notes };
}

/** The TF.js backend of the models on TF.js: the one config names (validation allows one), else wasm. */
export function tfjsBackendOf(config: {
  readonly backend: Backend;
  readonly models: readonly { readonly backend?: Backend | null }[];
}): TfjsBackend {
  return [config.backend, ...config.models.map((m) => m.backend)].find(isTfjsBackend) ?? 'wasm';
}

/** models/<name>/model.onnx in the package's temp folder: the checked export, as it ships. */
async function stageOnnx(keepIn: string, name: string, probe: OnnxProbe): Promise<void> {
  if (!probe.data) throw new LambdaMlError('internal', `model ${name}: the ONNX export was not kept for package`);
  const dir = join(keepIn, 'models', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, ONNX_FILE), probe.data);
}

/** One error for every model asked to run on onnx that does not convert, each layer in the details. */
function onnxRefused(refused: readonly Request[], tried: ReadonlyMap<string, OnnxProbe>): LambdaMlError {
  const first = refused[0];
  const what = (r: Request) => `${r.at} is "onnx", but model ${r.model.name} does not convert to ONNX`;
  const message =
    refused.length === 1
      ? `${what(first)}: ${tried.get(first.model.name)!.problems}`
      : `${refused.length} models on backend "onnx" do not convert: ${refused.map((r) => r.model.name).join(', ')}`;
  const details = refused.flatMap((r) => onnxProblemsOf(tried.get(r.model.name)!, r.model.name));
  const where = refused.length === 1 ? `"${first.at}"` : 'their "backend"';
  const hint = `set ${where} to "wasm" (or "auto"), or replace the layers listed`;
  return new LambdaMlError('input', message, hint, { details });
}
