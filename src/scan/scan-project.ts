/** scanProject: code, deps, layers and models of a config, measured from local files (docs/design.md §4). */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { inputError } from '../lib/errors.js';
import { recordFor, runtimeRecords } from '../runtimes/registry.js';
import type { RuntimeRecord } from '../runtimes/record.js';
import type { CodeScan, Config, DepsScan, LayerScan, ModelScan, Scan } from '../types.js';
import { fastWalk } from './find-walk.js';
import { scanLayer } from './layers.js';
import { readModelLabels } from './model-labels.js';
import { scanModel, type KerasInfoReader } from './models.js';

export interface ScanOptions {
  /** Measures layers given only by ARN (src/remote); without it such layers are an input error. */
  readonly scanRemoteLayer?: (layer: Config['layers'][number]) => Promise<LayerScan>;
  readonly readKerasInfo?: KerasInfoReader;
  /** Measures models given only by an s3:// location (src/remote). */
  readonly scanRemoteModel?: (model: Config['models'][number]) => Promise<ModelScan>;
  readonly onStep?: (step: string) => void;
}

/** Measures everything the config names. Stages never read process.*: all inputs come from config. */
export async function scanProject(config: Config, options: ScanOptions = {}): Promise<Scan> {
  options.onStep?.('code');
  const code = await scanCode(config.code);
  options.onStep?.('deps');
  const deps = await scanDeps(config.deps, recordFor(config));
  options.onStep?.('layers');
  const layers: LayerScan[] = [];
  for (const layer of config.layers) {
    if (!layer.zip && !layer.dir && layer.arn && options.scanRemoteLayer)
      layers.push(await options.scanRemoteLayer(layer));
    else layers.push(await scanLayer(layer));
  }
  options.onStep?.('models');
  const models = [];
  for (const model of config.models) {
    if (model.path === null && model.s3 && options.scanRemoteModel) {
      await readModelLabels(model); // a missing or malformed labels file, before any AWS call
      models.push(await options.scanRemoteModel(model));
    } else models.push(await scanModel(model, options.readKerasInfo));
  }
  return { code, deps, layers, models };
}

async function scanCode(root: string | null): Promise<CodeScan> {
  if (root === null) return { root: null, bytes: 0, files: 0, entries: [] };
  if (!existsSync(root)) throw inputError(`code: ${root} not found`, 'fix "code" in the config, or remove it');
  if (statSync(root).isFile()) {
    const size = statSync(root).size;
    return {
      root: dirname(root),
      bytes: size,
      files: 1,
      entries: [{ path: basename(root), bytes: size, mode: statSync(root).mode, link: null, owner: null }],
    };
  }
  const walked = await fastWalk(root);
  return { root, bytes: walked.bytes, files: walked.files, entries: walked.entries };
}

/** Scans the deps folder the way the function's runtime lays it out (its record's `deps`). */
async function scanDeps(root: string | null, record: RuntimeRecord): Promise<DepsScan> {
  if (root === null)
    return {
      root: null,
      kind: 'none',
      bytes: 0,
      files: 0,
      packages: [],
      unowned: { bytes: 0, files: 0, sample: [] },
      entries: [],
    };
  const layouts = runtimeRecords().map((r) => r.deps);
  const must = `it must be a folder (${layouts.map((d) => d.folder).join(', or ')})`;
  if (!existsSync(root)) {
    const hint = `run ${layouts.map((d) => `\`${d.install}\``).join(' / ')}, or fix "deps" in the config`;
    throw inputError(`deps: ${root} not found; ${must}`, hint);
  }
  if (!statSync(root).isDirectory()) {
    const hint = `point "deps" at the folder (e.g. "deps": "${record.deps.example}"), or remove it`;
    throw inputError(`deps: ${root} is a file; ${must}`, hint);
  }
  const walkRoot = record.deps.walkRoot(root);
  const walked = await fastWalk(walkRoot, { exclude: record.deps.exclude(walkRoot) });
  const owned = record.deps.group(walkRoot, walked);
  return {
    root: record.deps.rootOf(walkRoot),
    kind: record.name,
    bytes: walked.bytes,
    files: walked.files,
    packages: owned.packages,
    unowned: owned.unowned,
    entries: owned.entries,
  };
}
