/** scanProject: code, deps, layers and models of a config, measured from local files (docs/design.md §4). */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inputError } from '../lib/errors.js';
import type { CodeScan, Config, DepsKind, DepsScan, LayerScan, ModelScan, Scan } from '../types.js';
import { devOnlyPaths } from './dev-packages.js';
import { fastWalk } from './find-walk.js';
import { scanLayer } from './layers.js';
import { readModelLabels } from './model-labels.js';
import { scanModel, type KerasInfoReader } from './models.js';
import { groupNodePackages, type OwnedTree } from './node-deps.js';
import { groupPythonPackages } from './python-deps.js';

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
  const deps = await scanDeps(config.deps);
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

/** Detects the kind of a deps folder: a node_modules tree (or a folder holding one), or a pip -t tree. */
export function detectDepsKind(root: string, topNames: readonly string[]): DepsKind {
  if (basename(root) === 'node_modules' || topNames.includes('node_modules')) return 'node';
  if (topNames.some((name) => name.endsWith('.dist-info') || name.endsWith('.egg-info'))) return 'python';
  if (topNames.some((name) => name.startsWith('@') || existsSync(join(root, name, 'package.json')))) return 'node';
  return 'python';
}

async function scanDeps(root: string | null): Promise<DepsScan> {
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
  // deps must be a folder: a node_modules tree (or a folder holding one) or a `pip install -t DIR` folder.
  const must = 'it must be a folder (node_modules, or a pip install -t folder)';
  if (!existsSync(root)) {
    const hint = 'run `npm install` / `pip install -t DIR`, or fix "deps" in the config';
    throw inputError(`deps: ${root} not found; ${must}`, hint);
  }
  if (!statSync(root).isDirectory()) {
    const hint = 'point "deps" at the folder (e.g. "deps": "node_modules"), or remove it';
    throw inputError(`deps: ${root} is a file; ${must}`, hint);
  }
  // A folder holding node_modules is scanned at node_modules: only that ships.
  const nodeModules =
    basename(root) !== 'node_modules' && existsSync(join(root, 'node_modules')) ? join(root, 'node_modules') : root;
  const walked = await fastWalk(nodeModules, { exclude: devOnlyPaths(nodeModules) }); // devDependencies never ship
  const top = [
    ...new Set(
      walked.dirs
        .filter((d) => !d.includes('/'))
        .concat(walked.entries.filter((e) => !e.path.includes('/')).map((e) => e.path)),
    ),
  ];
  const kind = nodeModules !== root ? 'node' : detectDepsKind(root, top);
  const owned: OwnedTree =
    kind === 'node'
      ? groupNodePackages(nodeModules, walked, 'node_modules/')
      : groupPythonPackages(nodeModules, walked);
  // Entries are relative to `root`: node paths start with node_modules/, as they sit in the function zip.
  return {
    root: kind === 'node' ? dirname(nodeModules) : nodeModules,
    kind,
    bytes: walked.bytes,
    files: walked.files,
    packages: owned.packages,
    unowned: owned.unowned,
    entries: owned.entries,
  };
}
