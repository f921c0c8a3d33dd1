import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../lib/errors.js';
import { floatToHalf } from './float16.js';
import { gridOf, uint8Codes, widenRange, type Grid, type Quantization, type QuantizeMode } from './quantize.js';
import { elementCount, float32SlicesReused, isPlainFloat32, readTensor, storedBytes } from './read-tensor.js';
import { createShardWriter, shardNames, type ShardWriter } from './shard-writer.js';
import type { KerasSource, WeightBinding } from './types.js';

/** A `weightsManifest` weight entry. */
interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: Quantization;
}

/** Sizes of what was written. */
export interface Written {
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly params: number;
  readonly files: string[];
}

/** One mode for every float weight, or a per-weight choice (`--quantize auto`; undefined: float32). */
export type WeightModes = QuantizeMode | undefined | ((binding: WeightBinding) => QuantizeMode | undefined);

const modeFor = (modes: WeightModes, binding: WeightBinding) => (typeof modes === 'function' ? modes(binding) : modes);

/** Bytes one weight takes in the shards. */
function encodedBytes(binding: WeightBinding, mode: QuantizeMode | undefined): number {
  const count = elementCount(binding.dataset);
  const isFloat = binding.dataset.metadata.type === 1;
  if (!isFloat || !mode) return count * 4;
  return mode === 'uint8' ? count : count * 2;
}

/**
 * Writes a TF.js layers model (model.json + 4 MiB shards) into `dir`, reading one weight at a time
 * from the HDF5 file so memory stays near the largest tensor, not the model. `grids`: the uint8 grids already known
 * (by TF.js name), each that of the weight's values.
 */
export async function writeTfjsModel(
  source: Pick<KerasSource, 'kerasVersion' | 'backend' | 'modelConfig'>,
  bindings: readonly WeightBinding[],
  dir: string,
  modes: WeightModes,
  label: string,
  grids?: ReadonlyMap<string, Grid>,
): Promise<Written> {
  const total = bindings.reduce((sum, binding) => sum + encodedBytes(binding, modeFor(modes, binding)), 0);
  const paths = shardNames(total);
  const writer = createShardWriter(dir, paths);
  const weights: ManifestWeight[] = [];
  let bytesBefore = 0;
  let params = 0;
  try {
    for (const binding of bindings) {
      const mode = modeFor(modes, binding);
      bytesBefore += storedBytes(binding.dataset);
      params += elementCount(binding.dataset);
      const isFloat = binding.dataset.metadata.type === 1;
      if (isFloat && (mode || isPlainFloat32(binding.dataset))) {
        const entry: ManifestWeight = { name: binding.name, shape: [...binding.shape], dtype: 'float32' };
        entry.quantization = await writeFloat(writer, binding, mode, label, grids?.get(binding.name));
        weights.push(entry);
        continue;
      }
      const tensor = readTensor(binding.dataset, label);
      const entry: ManifestWeight = { name: binding.name, shape: [...binding.shape], dtype: tensor.dtype };
      await writer.write(new Uint8Array(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength));
      weights.push(entry);
    }
  } finally {
    await writer.close();
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: `keras v${source.kerasVersion}`,
    convertedBy: 'lambda-ml',
    modelTopology: { keras_version: source.kerasVersion, backend: source.backend, model_config: source.modelConfig },
    weightsManifest: [{ paths, weights }],
  };
  try {
    await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
  } catch (error) {
    throw inputError(
      `${dir}: cannot write model.json (${(error as Error).message})`,
      'check free space and permissions of the output folder',
      error,
    );
  }
  return { bytesBefore, bytesAfter: total, params, files: ['model.json', ...paths] };
}

let codes = new Uint8Array(0);
let halves = new Uint16Array(0);

/**
 * Writes one float weight by slices (float32 as read, or encoded), buffers reused: memory stays at a few MiB however
 * large the tensor. uint8 needs the grid of all its values first: `known` (the search computed it), else one more
 * read.
 */
async function writeFloat(
  writer: ShardWriter,
  binding: WeightBinding,
  mode: QuantizeMode | undefined,
  label: string,
  known?: Grid,
): Promise<Quantization | undefined> {
  const slices = () => float32SlicesReused(binding.dataset, label);
  if (!mode) {
    for (const slice of slices()) await writer.write(new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength));
    return undefined;
  }
  if (mode === 'float16') {
    for (const slice of slices()) {
      if (halves.length < slice.length) halves = new Uint16Array(slice.length);
      const half = floatToHalf(slice, halves);
      await writer.write(new Uint8Array(half.buffer, half.byteOffset, half.byteLength));
    }
    return { dtype: 'float16' };
  }
  let grid = known;
  if (!grid) {
    const range = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
    for (const slice of slices()) widenRange(range, slice);
    grid = gridOf(range);
  }
  for (const slice of slices()) {
    if (codes.length < slice.length) codes = new Uint8Array(slice.length);
    await writer.write(uint8Codes(slice, grid, codes));
  }
  return { dtype: 'uint8', ...grid };
}
