import type { Dataset } from './h5-file.js';

/**
 * What the converter reads of one weight: an HDF5 dataset (h5wasm's Dataset has these members), or values a
 * rewrite computed (`memoryTensor`). HDF5 type classes: 0 integer, 1 float.
 */
export interface TensorSource {
  readonly path: string;
  readonly shape: number[] | null;
  readonly dtype: Dataset['dtype'];
  readonly metadata: {
    readonly type: number;
    readonly size: number;
    readonly littleEndian: boolean;
    readonly total_size: number;
  };
  readonly value: Dataset['value'];
  slice(ranges: Parameters<Dataset['slice']>[0]): Dataset['value'];
}

/** A float32 tensor held in memory, read like a dataset (one slice: the whole of it). */
export function memoryTensor(path: string, values: Float32Array, shape: readonly number[]): TensorSource {
  return {
    path,
    shape: [...shape],
    dtype: '<f',
    metadata: { type: 1, size: 4, littleEndian: true, total_size: values.length },
    value: values,
    slice: ([range]) => {
      const rows = shape.length > 0 ? shape[0] : 1;
      const row = values.length / rows;
      return values.subarray(Number(range?.[0] ?? 0) * row, Number(range?.[1] ?? rows) * row);
    },
  };
}
