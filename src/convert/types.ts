import type { LayersModel } from '@tensorflow/tfjs';
import type { Dataset, H5File } from './h5-file.js';

/** Input formats `convert` reads. */
export type KerasFormat = 'keras-h5' | 'keras-v3';

/** A Keras model opened for conversion: a TF.js-ready topology plus where each weight lives in the HDF5 file. */
export interface KerasSource {
  readonly format: KerasFormat;
  readonly kerasVersion: string;
  readonly backend: string;
  /** Keras 2 style `model_config` (Keras 3 configs are translated), as TF.js layers expects it. */
  readonly modelConfig: Record<string, unknown>;
  readonly file: H5File;
  /** Every weight dataset of the model (shapes and dtypes only are read until `.value`). */
  readonly datasets: () => Dataset[];
  /** Pairs each weight of the built TF.js model with its dataset. */
  readonly bind: (model: LayersModel) => WeightBinding[];
  /** Closes the HDF5 file and removes any temporary file. */
  readonly close: () => Promise<void>;
}

/** One weight as TF.js expects it, bound to the HDF5 dataset holding its value. */
export interface WeightBinding {
  /** Name TF.js matches on load, e.g. `conv2d_1/kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dataset: Dataset;
}

/** What `convertKeras` did. Sizes are integer bytes. */
export interface ConvertReport {
  readonly format: KerasFormat;
  readonly kerasVersion: string;
  readonly layers: number;
  readonly weights: number;
  readonly params: number;
  /** Weight bytes as stored in the Keras file. */
  readonly bytesBefore: number;
  /** Weight bytes written to the shards. */
  readonly bytesAfter: number;
  readonly quantize: 'uint8' | 'float16' | undefined;
  /** Largest absolute output difference between the float32 and the quantised model on a fixed seeded input (0 when not quantised). */
  readonly maxAbsDiff: number;
  readonly outDir: string;
  readonly files: readonly string[];
}

/** What `readKerasInfo` learns from shapes and dtypes alone. */
export interface KerasInfo {
  readonly format: KerasFormat;
  readonly kerasVersion: string;
  /** Weight bytes as stored. */
  readonly weightBytes: number;
  /** Weight bytes once loaded as float32 tensors. */
  readonly memoryBytes: number;
  readonly layers: number;
  readonly params: number;
}
