import { inputError } from '../lib/errors.js';
import { halfToFloat } from './float16.js';
import { h5Module } from './h5-file.js';
import type { TensorSource } from './tensor-source.js';

/** Values of one weight in the dtypes TF.js stores. */
export type TensorData =
  | { readonly dtype: 'float32'; readonly values: Float32Array }
  | { readonly dtype: 'int32'; readonly values: Int32Array };

/** Bytes a dataset occupies as stored (element size x count). */
export function storedBytes(dataset: TensorSource): number {
  const meta = dataset.metadata;
  return meta.size * meta.total_size;
}

/** Element count of a dataset. */
export const elementCount = (dataset: TensorSource) => dataset.metadata.total_size;

/** Reads a weight dataset as float32 (floats of any width) or int32 (integers). */
export function readTensor(dataset: TensorSource, label: string): TensorData {
  const meta = dataset.metadata;
  if (!meta.littleEndian && meta.size > 1)
    throw inputError(
      `${label}: ${dataset.path} is big-endian`,
      'save the model on a little-endian machine (x86/ARM) or convert it with h5py first',
    );
  const raw = dataset.value;
  // h5wasm returns a scalar dataset (Normalization's `count`, say) as a number or bigint
  const value =
    typeof raw === 'number' || typeof raw === 'bigint'
      ? meta.type === 1
        ? Float64Array.of(Number(raw))
        : Int32Array.of(Number(raw))
      : raw;
  if (meta.type === 1) {
    if (value instanceof Float32Array) return { dtype: 'float32', values: value };
    if (value instanceof Float64Array) return { dtype: 'float32', values: Float32Array.from(value) };
    if (meta.size === 2 && value instanceof Uint8Array)
      return {
        dtype: 'float32',
        values: halfToFloat(new Uint16Array(value.buffer, value.byteOffset, value.byteLength / 2)),
      };
  }
  if (meta.type === 0) {
    if (value instanceof Int32Array) return { dtype: 'int32', values: value };
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const source = value as unknown as ArrayLike<number | bigint>;
      const out = new Int32Array(source.length);
      for (let index = 0; index < source.length; index++) out[index] = Number(source[index]);
      return { dtype: 'int32', values: out };
    }
  }
  throw inputError(
    `${label}: ${dataset.path} has dtype ${String(dataset.dtype)}, which TF.js weights cannot hold`,
    'cast the model weights to float32 before saving',
  );
}

/** True when a dataset is little-endian float32, which can be copied to the shards as it is. */
export function isPlainFloat32(dataset: TensorSource): boolean {
  const meta = dataset.metadata;
  return meta.type === 1 && meta.size === 4 && meta.littleEndian;
}

/**
 * Yields a float32 dataset in slices along its first axis of about `sliceBytes` each, so converting a model
 * never holds a whole large tensor (or its garbage copies from h5wasm) at once.
 */
export function* float32Slices(dataset: TensorSource, sliceBytes = 4_194_304): Generator<Float32Array> {
  const shape = dataset.shape ?? [];
  const total = dataset.metadata.total_size;
  if (shape.length === 0 || total * 4 <= sliceBytes) {
    yield dataset.value as Float32Array;
    return;
  }
  const rowBytes = (total / shape[0]) * 4;
  const rows = Math.max(1, Math.floor(sliceBytes / rowBytes));
  for (let start = 0; start < shape[0]; start += rows) {
    yield dataset.slice([[start, Math.min(shape[0], start + rows)]]) as Float32Array;
  }
}

/** Bytes of one slice read from HDF5 (TF.js's shard size: few reads, little memory). */
const SLICE_BYTES = 4_194_304;
let h5Buffer: number | undefined;
let jsBuffer: Float32Array | undefined;

/**
 * Yields a float32 weight (any float width on disk) in slices of about 4 MiB along its first axis, each valid only
 * until the next one is asked for. An h5wasm dataset is read as its `Dataset.slice` reads it, minus the copy that
 * returns (a 4 MiB garbage array per slice, which V8 collects late): into one buffer in h5wasm's heap, copied into
 * one JS buffer, both reused for every slice of every tensor.
 */
export function* float32SlicesReused(dataset: TensorSource, label: string): Generator<Float32Array> {
  const direct = h5Reader(dataset);
  if (!direct) {
    yield* isPlainFloat32(dataset) ? float32Slices(dataset) : [readTensor(dataset, label).values as Float32Array];
    return;
  }
  jsBuffer ??= new Float32Array(SLICE_BYTES / 4);
  for (const view of direct()) {
    const slice = jsBuffer.subarray(0, view.length);
    slice.set(view);
    yield slice;
  }
}

/** Reads a float weight into `out` (at least its element count) by slices; returns the filled part. */
export function readFloat32Into(dataset: TensorSource, out: Float32Array, label: string): Float32Array {
  const target = out.subarray(0, elementCount(dataset));
  let offset = 0;
  // from h5wasm's heap straight into the target (no JS buffer between: nothing else reads HDF5 meanwhile)
  const direct = h5Reader(dataset);
  for (const slice of direct ? direct() : float32SlicesReused(dataset, label)) {
    target.set(slice, offset);
    offset += slice.length;
  }
  return target;
}

/**
 * Slices of a little-endian float32 h5wasm dataset as views of one buffer in h5wasm's heap (each valid until the
 * next HDF5 read), or undefined when the dataset is not one or a row is wider than a slice.
 */
function h5Reader(dataset: TensorSource): (() => Generator<Float32Array>) | undefined {
  const h5 = h5Module();
  const shape = dataset.shape ?? [];
  const fileId = (dataset as { file_id?: unknown }).file_id;
  const total = elementCount(dataset);
  const row = shape.length > 0 && total > 0 ? total / shape[0] : 0;
  if (!h5 || !isPlainFloat32(dataset) || typeof fileId !== 'bigint' || row === 0 || row * 4 > SLICE_BYTES)
    return undefined;
  const rows = Math.floor(SLICE_BYTES / 4 / row);
  return function* () {
    h5Buffer ??= h5._malloc(SLICE_BYTES);
    for (let start = 0; start < shape[0]; start += rows) {
      const count = Math.min(rows, shape[0] - start);
      const counts = shape.map((size, axis) => BigInt(axis === 0 ? count : size));
      const offsets = shape.map((_, axis) => BigInt(axis === 0 ? start : 0));
      const strides = counts.map(() => 1n);
      h5.get_dataset_data(fileId, dataset.path, counts, offsets, strides, BigInt(h5Buffer));
      // a fresh view each time: the heap's buffer changes when it grows
      yield new Float32Array(h5.HEAPU8.buffer, h5Buffer, count * row);
    }
  };
}
