/** Generators of the ONNX rows (test/cli/bad-inputs/onnx.json). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A TF.js layers model.json (no weights) of Keras 2 layers the ONNX export does not cover: RepeatVector, Masking. */
const UNSUPPORTED_TOPOLOGY = {
  class_name: 'Sequential',
  config: {
    name: 'seq',
    layers: [
      { class_name: 'RepeatVector', config: { name: 'repeat', n: 2, batch_input_shape: [null, 4], dtype: 'float32' } },
      { class_name: 'Masking', config: { name: 'mask', mask_value: 0 } },
      { class_name: 'Flatten', config: { name: 'flat' } },
      { class_name: 'RepeatVector', config: { name: 'repeat2', n: 3 } },
      { class_name: 'Flatten', config: { name: 'flat2' } },
    ],
  },
};

export const generators: Record<string, (projectDir: string) => Promise<void>> = {
  /** tfm/: a TF.js layers model with 2 RepeatVector and 1 Masking layer. */
  onnxUnsupportedModel: async (dir) => {
    await mkdir(join(dir, 'tfm'), { recursive: true });
    const modelTopology = { keras_version: '2.2.4', backend: 'tensorflow', model_config: UNSUPPORTED_TOPOLOGY };
    const json = { format: 'layers-model', modelTopology, weightsManifest: [{ paths: [], weights: [] }] };
    await writeFile(join(dir, 'tfm', 'model.json'), JSON.stringify(json));
  },
};
