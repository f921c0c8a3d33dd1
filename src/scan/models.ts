/** Models: TF.js model.json + shards (memory = weights dequantised to float32), Keras .h5/.keras files. */
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, inputError } from '../lib/errors.js';
import type { ModelConfig, ModelScan } from '../types.js';
import { checkLabelCount, readModelLabels } from './model-labels.js';
import { graphOutputUnits, layersOutputUnits, type OutputUnits } from './model-topology.js';
import { checkShardSizes, type ManifestGroup } from '../lib/weight-shards.js';

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, string: 0 };

/** Optional richer reader for Keras files (src/convert), injected so scan stays light when it is absent. */
export type KerasInfoReader = (path: string) => Promise<KerasInfo>;

/** What the Keras reader tells the scan: weight sizes, and the model config (for the output units). */
export interface KerasInfo {
  readonly memoryBytes: number;
  readonly weightBytes: number;
  readonly modelConfig?: unknown;
}

/** Scans one configured model from its local `path`. */
export async function scanModel(model: ModelConfig, readKerasInfo?: KerasInfoReader): Promise<ModelScan> {
  if (model.path === null) {
    throw inputError(
      `models: "${model.name}" has only an s3 location (${model.s3})`,
      'add "path" with a local copy, or run with AWS access so lambda-ml can measure it in S3',
    );
  }
  const location = model.bundle ? 'bundle' : 's3';
  const info = await stat(model.path).catch((error) => {
    throw fsError(error, model.path as string);
  });
  if (info.isDirectory() || model.path.endsWith('.json')) {
    const jsonPath = info.isDirectory() ? join(model.path, 'model.json') : model.path;
    const { scan, output } = await scanTfjs(model.name, jsonPath, location);
    checkLabelCount(model, await readModelLabels(model), output);
    return scan;
  }
  const head = await readHead(model.path);
  const format = head.subarray(0, 8).equals(HDF5_SIGNATURE)
    ? 'keras-h5'
    : head.subarray(0, 4).equals(ZIP_SIGNATURE) && model.path.endsWith('.keras')
      ? 'keras-v3'
      : null;
  if (format === null) {
    throw inputError(
      `${model.path}: not a TF.js model folder, an HDF5 .h5 file or a .keras zip`,
      'point models[].path at a folder with model.json, or at a Keras .h5/.keras file',
    );
  }
  let memoryBytes = info.size;
  let output: OutputUnits | null = null;
  if (readKerasInfo) {
    try {
      const keras = await readKerasInfo(model.path);
      memoryBytes = keras.memoryBytes;
      output = layersOutputUnits(keras.modelConfig);
    } catch {
      memoryBytes = info.size; // unreadable weights: the file size is the estimate (convert reports the real error)
    }
  }
  checkLabelCount(model, await readModelLabels(model), output);
  return {
    name: model.name,
    format,
    bytes: info.size,
    memoryBytes,
    location,
    quantization: null,
    files: [{ path: model.path, bytes: info.size }],
  };
}

type TfjsScan = { scan: ModelScan; output: OutputUnits | null };

async function scanTfjs(name: string, jsonPath: string, location: 's3' | 'bundle'): Promise<TfjsScan> {
  let json: { format?: string; modelTopology?: Record<string, unknown>; weightsManifest?: ManifestGroup[] };
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) throw fsError(error, jsonPath);
    throw inputError(`${jsonPath}: not valid JSON`, 'regenerate model.json with the TF.js converter');
  }
  if (!Array.isArray(json.weightsManifest))
    throw inputError(
      `${jsonPath}: no weightsManifest`,
      'this is not a TF.js model.json; convert the model with `lambda-ml convert`',
    );
  const files = [{ path: jsonPath, bytes: (await stat(jsonPath)).size }];
  let memoryBytes = 0;
  let quantization: ModelScan['quantization'] = null;
  for (const group of json.weightsManifest) {
    const sizes: number[] = [];
    for (const shard of group.paths ?? []) {
      const shardPath = join(dirname(jsonPath), shard);
      const shardInfo = await stat(shardPath).catch(() => {
        throw inputError(
          `${jsonPath}: weight shard "${shard}" is missing`,
          `copy ${basename(shard)} next to model.json (all shards listed in weightsManifest are needed)`,
        );
      });
      files.push({ path: shardPath, bytes: shardInfo.size });
      sizes.push(shardInfo.size);
    }
    checkShardSizes(`model "${name}" (${jsonPath})`, group, sizes);
    for (const weight of group.weights ?? []) {
      const count = (weight.shape ?? []).reduce((a, b) => a * b, 1);
      memoryBytes += count * (weight.quantization ? 4 : (BYTES_PER_DTYPE[weight.dtype ?? 'float32'] ?? 4));
      if (weight.quantization) quantization = weight.quantization.dtype as ModelScan['quantization'];
    }
  }
  const topology = json.modelTopology ?? {};
  const format = json.format === 'graph-model' || 'node' in topology ? 'tfjs-graph' : 'tfjs-layers';
  const bytes = files.reduce((total, f) => total + f.bytes, 0);
  const output = format === 'tfjs-graph' ? graphOutputUnits(json) : layersOutputUnits(topology);
  return { scan: { name, format, bytes, memoryBytes, location, quantization, files }, output };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r').catch((error) => {
    throw fsError(error, path);
  });
  try {
    const buffer = Buffer.alloc(8);
    await handle.read(buffer, 0, 8, 0);
    return buffer;
  } finally {
    await handle.close();
  }
}
