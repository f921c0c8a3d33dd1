import { countLayers } from './convert-keras.js';
import { openKeras } from './open-keras.js';
import { elementCount, storedBytes } from './read-tensor.js';
import type { KerasInfo } from './types.js';

/**
 * Sizes of a Keras model from shapes and dtypes only (no weight data is read): for budget's memory and quantisation
 * estimates.
 */
export async function readKerasInfo(path: string): Promise<KerasInfo> {
  const source = await openKeras(path);
  try {
    const datasets = source.datasets();
    const params = datasets.reduce((sum, dataset) => sum + elementCount(dataset), 0);
    return {
      format: source.format,
      kerasVersion: source.kerasVersion,
      weightBytes: datasets.reduce((sum, dataset) => sum + storedBytes(dataset), 0),
      memoryBytes: params * 4,
      layers: countLayers(source.modelConfig),
      params,
      modelConfig: source.modelConfig,
    };
  } finally {
    await source.close();
  }
}
