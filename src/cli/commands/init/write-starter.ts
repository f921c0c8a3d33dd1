/**
 * Writes a starter project all or nothing: every file goes into a hidden staging folder inside the target first, then
 * each is renamed into place (same filesystem). A failure before the renames leaves no trace, not even a folder
 * that init created.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsError } from '../../../lib/errors.js';
import type { StarterModel } from './starter-model.js';

export const CONFIG_FILE = 'lambda-ml.config.json';

/**
 * The starter's .npmrc: onnxruntime-node's postinstall downloads CUDA binaries from NuGet unless told to skip, and
 * the onnx backend needs none of them (package ships the CPU build only). Written when the folder has no .npmrc.
 */
export const STARTER_NPMRC = 'onnxruntime-node-install=skip\n';

/** What goes into the project folder. */
export interface StarterWrite {
  readonly dir: string;
  readonly config: Record<string, unknown>;
  readonly pkg: Record<string, unknown>;
  readonly model: StarterModel | null;
}

/** The paths `init` owns in `dir`, relative: a second init without --force refuses when any exists. */
export const starterPaths = (model: StarterModel | null) => [
  CONFIG_FILE,
  'package.json',
  ...(model ? [`models/${model.name}`] : []),
];

/** Writes the starter; returns the files written (absolute). */
export async function writeStarter(starter: StarterWrite): Promise<string[]> {
  const { dir, model } = starter;
  const created = await mkdir(dir, { recursive: true }).catch((error) => {
    throw fsError(error, dir, 'create');
  });
  let staging: string | null = null;
  try {
    staging = await mkdtemp(join(dir, '.lambda-ml-init-'));
    const written: string[] = [];
    const put = async (rel: string, text: string) => {
      await mkdir(dirname(join(staging as string, rel)), { recursive: true });
      await writeFile(join(staging as string, rel), text);
      written.push(rel);
    };
    if (model) {
      const modelDir = join(staging, 'models', model.name);
      await mkdir(modelDir, { recursive: true });
      await model.write(modelDir);
      for (const rel of await filesUnder(modelDir)) written.push(`models/${model.name}/${rel}`);
      await put(`models/${model.name}/labels.json`, JSON.stringify(model.labels, null, 2) + '\n');
    }
    await put(CONFIG_FILE, JSON.stringify(starter.config, null, 2) + '\n');
    await put('package.json', JSON.stringify(starter.pkg, null, 2) + '\n');
    const npmrc = existsSync(join(dir, '.npmrc')) ? [] : ['.npmrc'];
    if (npmrc.length > 0) await put('.npmrc', STARTER_NPMRC);
    // Commit: the model folder replaces any old one as a whole, then the two files (rename replaces atomically).
    if (model) {
      const target = join(dir, 'models', model.name);
      await mkdir(dirname(target), { recursive: true });
      await rm(target, { recursive: true, force: true });
      await rename(join(staging, 'models', model.name), target);
    }
    for (const file of [CONFIG_FILE, 'package.json', ...npmrc]) await rename(join(staging, file), join(dir, file));
    return written.sort().map((rel) => join(dir, ...rel.split('/')));
  } catch (error) {
    if (created !== undefined) await rm(created, { recursive: true, force: true });
    throw (error as Error).name === 'LambdaMlError' ? error : fsError(error, dir, 'write');
  } finally {
    if (staging !== null && existsSync(staging)) await rm(staging, { recursive: true, force: true });
  }
}

/** Files under `root`, relative with '/' separators. */
async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const rel of await readdir(root, { recursive: true })) {
    if ((await stat(join(root, rel))).isFile()) out.push(rel.split('\\').join('/'));
  }
  return out;
}
