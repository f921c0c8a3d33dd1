/**
 * `init --model PATH`: a TF.js model folder (model.json + shards), a model.json, or a Keras .h5/.keras file, checked
 * and measured before anything is written. Errors name `--model` and the file (exit 2).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { fsError, inputError, LambdaMlError } from '../../../lib/errors.js';
import { slugify } from '../../../lib/names.js';
import { graphShape, kerasShape, type ModelShape } from './model-shape.js';

export type ModelFormat = 'tfjs-layers' | 'tfjs-graph' | 'keras-h5' | 'keras-v3';

/** A model to copy into models/<name>/: its files (relative destinations) and what its metadata says. */
export interface ModelSource {
  readonly name: string;
  readonly format: ModelFormat;
  readonly files: readonly { readonly from: string; readonly to: string }[];
  /** What models[].path points at inside models/<name>/: '' for the folder (TF.js), else the Keras file's name. */
  readonly entry: string;
  readonly shape: ModelShape;
}

const HINT = 'pass a TF.js model folder (model.json + its .bin shards), a model.json, or a Keras .h5 / .keras file';
const HDF5 = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const ZIP = Buffer.from('PK\x03\x04', 'latin1');

/** Reads `arg` (relative to `cwd`) as a model, or throws an input error naming --model and the file. */
export async function readModelSource(arg: string, cwd: string): Promise<ModelSource> {
  const path = resolve(cwd, arg);
  const info = await stat(path).catch((error) => {
    throw fileError(error, path);
  });
  if (info.isDirectory()) return readTfjs(join(path, 'model.json'), basename(path), true);
  if (basename(path) === 'model.json' || extname(path) === '.json') {
    const folderName = basename(path) === 'model.json' ? basename(dirname(path)) : basename(path, '.json');
    return readTfjs(path, folderName, false);
  }
  const head = await readHead(path);
  const isKeras = head.subarray(0, 8).equals(HDF5) || (head.subarray(0, 4).equals(ZIP) && extname(path) === '.keras');
  if (!isKeras) {
    throw inputError(`--model ${path}: not a TF.js model folder, a model.json or a Keras .h5/.keras file`, HINT);
  }
  return readKeras(path);
}

/** The model's name in the config, from its file or folder name: [a-z0-9_-], at most 64, else "model". */
export const modelName = (fileOrFolder: string) => slugify(fileOrFolder, { max: 64, keep: '_' }) || 'model';

async function readTfjs(jsonPath: string, folderName: string, isFolder: boolean): Promise<ModelSource> {
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (error) {
    if (isFolder && (error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw inputError(`--model ${dirname(jsonPath)}: no model.json in this folder`, HINT, error);
    }
    throw fileError(error, jsonPath);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw inputError(`--model ${jsonPath}: not valid JSON`, 'regenerate model.json with the TF.js converter', error);
  }
  const manifest = json?.weightsManifest;
  if (!json || typeof json.modelTopology !== 'object' || !Array.isArray(manifest)) {
    throw inputError(`--model ${jsonPath}: not a TF.js model.json (no modelTopology and weightsManifest)`, HINT);
  }
  const root = dirname(jsonPath);
  const files = [{ from: jsonPath, to: 'model.json' }];
  for (const group of manifest as { paths?: unknown }[]) {
    for (const shard of Array.isArray(group?.paths) ? group.paths : []) {
      const rel = typeof shard === 'string' ? normalize(shard) : '';
      if (!rel || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
        const message = `--model ${jsonPath}: weight shard path ${JSON.stringify(shard)} leaves the model folder`;
        throw inputError(message, 'list shards by their file names');
      }
      const from = join(root, rel);
      const shardInfo = await stat(from).catch(() => null);
      if (!shardInfo?.isFile()) {
        const message = `--model ${jsonPath}: weight shard "${shard}" is missing`;
        throw inputError(message, `copy ${basename(rel)} next to model.json`);
      }
      files.push({ from, to: rel });
    }
  }
  const isGraph = json.format === 'graph-model' || 'node' in (json.modelTopology as object);
  return {
    name: modelName(folderName),
    format: isGraph ? 'tfjs-graph' : 'tfjs-layers',
    files,
    entry: '',
    shape: isGraph ? graphShape(json) : kerasShape(json.modelTopology),
  };
}

async function readKeras(path: string): Promise<ModelSource> {
  const { openKeras } = await import('../../../convert/open-keras.js'); // h5wasm loads only for Keras files
  let source;
  try {
    source = await openKeras(path);
  } catch (error) {
    if (error instanceof LambdaMlError) throw flagError(error, error);
    throw inputError(`--model ${path}: cannot read it as a Keras model`, HINT, error);
  }
  try {
    const entry = basename(path);
    return {
      name: modelName(basename(path, extname(path))),
      format: source.format,
      files: [{ from: path, to: entry }],
      entry,
      shape: kerasShape(source.modelConfig),
    };
  } finally {
    await source.close();
  }
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r').catch((error) => {
    throw fileError(error, path);
  });
  try {
    const buffer = Buffer.alloc(8);
    const { bytesRead } = await handle.read(buffer, 0, 8, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** An fs error on the model's file, naming the flag. */
function fileError(error: unknown, path: string): LambdaMlError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return inputError(`--model ${path}: not found`, 'check the path (it resolves against the current folder)', error);
  }
  return flagError(fsError(error, path), error);
}

/** The same error, its message prefixed with the flag (messages start with the path). */
const flagError = (error: LambdaMlError, cause: unknown) =>
  inputError(`--model ${error.message}`, error.hint ?? HINT, cause);
