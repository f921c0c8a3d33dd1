/** Stages models for upload: TF.js folders copied (Keras files converted), each file with its sha256. */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { inputError } from '../lib/errors.js';
import type { ModelConfig, ModelFormat, ModelScan, StagedModel } from '../types.js';

export type KerasConverter = (inPath: string, outDir: string) => Promise<unknown>;

export interface StagedWithMeta extends StagedModel {
  readonly format: ModelFormat | 'onnx';
  readonly labels: readonly string[];
}

/** Writes `<out>/models/<name>/` for every model and returns what was staged. */
export async function stageModels(
  out: string,
  models: readonly ModelConfig[],
  scans: readonly ModelScan[],
  convert?: KerasConverter,
  loadsKeras = false, // the runtime record's: false converts Keras files to TF.js
): Promise<StagedWithMeta[]> {
  const staged: StagedWithMeta[] = [];
  for (const model of models) {
    const scan = scans.find((s) => s.name === model.name);
    if (!scan || model.path === null) continue;
    const dir = join(out, 'models', model.name);
    await mkdir(dirname(dir), { recursive: true });
    let format: ModelFormat | 'onnx';
    if (scan.backend === 'onnx') {
      // Already written by the budget run into this folder: models/<name>/model.onnx, checked in ONNX Runtime
      // (pipeline/model-backends.ts).
      format = 'onnx';
    } else if ((scan.format === 'keras-h5' || scan.format === 'keras-v3') && !loadsKeras) {
      // The Node handler runs TF.js, so Keras files are converted; a Python handler loads them as they are.
      if (!convert)
        throw inputError(
          `model ${model.name} is a Keras file and the converter is unavailable`,
          'convert it first: lambda-ml convert IN OUT, and point models[].path at OUT',
        );
      await convert(model.path, dir);
      format = 'tfjs-layers';
    } else {
      await mkdir(dir, { recursive: true });
      for (const file of scan.files) await copyFile(file.path, join(dir, basename(file.path)));
      format = scan.format; // a Python handler gets Keras files as they are (model_path, docs/handler.md)
    }
    const files = [];
    for (const name of (await readdir(dir)).sort()) {
      const data = await readFile(join(dir, name));
      files.push({
        name,
        bytes: (await stat(join(dir, name))).size,
        sha256: createHash('sha256').update(data).digest('hex'),
      });
    }
    staged.push({
      name: model.name,
      dir: `models/${model.name}`,
      s3: model.s3,
      files,
      format,
      labels: await readLabels(model),
    });
  }
  return staged;
}

/** Labels: a JSON array, or an object of index -> label; without a file, the class index. */
export async function readLabels(model: ModelConfig): Promise<string[]> {
  if (model.labels === null) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(model.labels, 'utf8'));
  } catch (error) {
    throw inputError(
      `${model.labels}: cannot read labels (${(error as Error).message.split('\n')[0]})`,
      'give a JSON array of class names in output order',
    );
  }
  if (Array.isArray(raw) && raw.every((l) => typeof l === 'string')) return raw;
  if (raw && typeof raw === 'object') {
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.every(([k, v]) => /^\d+$/.test(k) && typeof v === 'string')) {
      const out: string[] = [];
      for (const [k, v] of entries) out[Number(k)] = v as string;
      return Array.from(out, (l, i) => l ?? String(i));
    }
  }
  throw inputError(
    `${model.labels}: labels must be a JSON array of strings (or {"0": "label", ...})`,
    'e.g. ["cat", "dog"]',
  );
}

export const modelDirOf = (path: string) => (path.endsWith('.json') ? dirname(path) : path);
