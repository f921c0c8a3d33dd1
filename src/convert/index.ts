export { convertKeras, type ConvertOptions } from './convert-keras.js';
export { readKerasInfo } from './read-info.js';
export { fileModelHandler } from './tfjs-io.js';
export { SHARD_BYTES } from './shard-writer.js';
export type { QuantizeMode } from './quantize.js';
export type { ConvertReport, KerasFormat, KerasInfo } from './types.js';
export { convertTfjs, type TfjsConvertReport } from './convert-tfjs.js';
export { DEFAULT_MAX_DIFF, type QuantizeChoice, type QuantizeOptions } from './quantize-check.js';
