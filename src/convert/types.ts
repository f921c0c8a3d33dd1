import type { H5File } from './h5-file.js';
import type { TensorSource } from './tensor-source.js';

/** Input formats `convert` reads. */
export type KerasFormat = 'keras-h5' | 'keras-v3';

/** A Keras model opened for conversion: its topology plus where each weight lives in the HDF5 file. */
export interface KerasSource {
  readonly format: KerasFormat;
  readonly kerasVersion: string;
  /** Keras major that wrote the file (2: Keras 2 and tf.keras; 3: Keras 3, `.keras` or `.h5`). */
  readonly major: number;
  readonly backend: string;
  /**
   * Keras 2 style `model_config` (Keras 3 configs are translated), before the rewrites of prepare-model.ts
   * (`convertKeras` runs them; what it writes is in model.json).
   */
  readonly modelConfig: Record<string, unknown>;
  readonly file: H5File;
  /** Every weight dataset of the model (shapes and dtypes only are read until `.value`). */
  readonly datasets: () => TensorSource[];
  /** The stored weights of one layer, by its path of names from the root model (nested models' layers included). */
  readonly storedWeights: (path: readonly string[]) => StoredWeight[];
  /** Top-level weight groups of layers the config does not have (the config and the weights disagree). */
  readonly unclaimed: () => string[];
  /** Closes the HDF5 file and removes any temporary file. */
  readonly close: () => Promise<void>;
}

/** A stored weight: its Keras name (Keras 2 and Keras 3 `.h5`; `.keras` stores none) and its data. */
export interface StoredWeight {
  readonly name?: string;
  readonly dataset: TensorSource;
}

/** One weight as TF.js expects it, bound to the dataset (or computed values) holding it. */
export interface WeightBinding {
  /** Name TF.js matches on load, e.g. `conv2d_1/kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dataset: TensorSource;
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
  readonly quantize: 'uint8' | 'float16' | 'auto' | undefined;
  /** What each tensor got, checked on calibration inputs (quantize-check.ts); absent without --quantize. */
  readonly quantization?: import('./quantize-report.js').QuantizationReport;
  /**
   * Largest absolute output difference between the float32 and the quantised model on the calibration inputs (0 when
   * not quantised).
   */
  readonly maxAbsDiff: number;
  readonly outDir: string;
  readonly files: readonly string[];
  /** One line per layer dropped (identities at inference) or rewritten into other layers (docs/convert.md). */
  readonly notes: readonly string[];
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
  /** The Keras 2 style `model_config` (budget reads the output layer's units from it). */
  readonly modelConfig: Record<string, unknown>;
}
