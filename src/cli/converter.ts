/** The Keras converter, loaded lazily: h5wasm is only needed when a model is an .h5/.keras file. */
import type { KerasConverter } from '../pack/models-stage.js';

export async function kerasConverter(): Promise<KerasConverter | undefined> {
  try {
    const mod = (await import('../convert/index.js')) as { convertKeras?: KerasConverter };
    return mod.convertKeras;
  } catch {
    return undefined;
  }
}
