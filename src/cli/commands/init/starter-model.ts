/**
 * The model a starter project gets: the bundled nsfwjs content-safety classifier, or the user's `--model` with its
 * labels. Everything is read and checked here; `write` fills models/<name>/ only once the caller commits.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { inputError } from '../../../lib/errors.js';
import { readLabelsFile } from './labels-file.js';
import { readModelSource, type ModelFormat } from './model-source.js';

/** Default input size when the model leaves it open. */
export const DEFAULT_INPUT = 224;

/** A model ready to be written into a starter project. */
export interface StarterModel {
  readonly name: string;
  readonly kind: 'bundled' | ModelFormat;
  /** One line for the human output: what the model is. */
  readonly about: string;
  /** models[].path inside models/<name>/: '' for the folder, else a file's name. */
  readonly entry: string;
  readonly labels: readonly string[];
  readonly input: { readonly width: number; readonly height: number };
  readonly warnings: readonly string[];
  /** Writes the model's files (not labels.json) into `modelDir`, which exists. */
  readonly write: (modelDir: string) => Promise<void>;
}

/** nsfwjs's MobileNetV2 content-safety classifier, when the nsfwjs package is installed next to lambda-ml. */
export async function bundledModel(): Promise<StarterModel | null> {
  let example: typeof import('../../../example/nsfwjs-model.js');
  let labels: string[];
  try {
    example = await import('../../../example/nsfwjs-model.js');
    labels = example.nsfwjsLabels();
  } catch {
    return null; // nsfwjs is a dev dependency of lambda-ml: without it the user brings a model
  }
  return {
    name: 'safety',
    kind: 'bundled',
    about: `nsfwjs's content-safety classifier (${labels.join(', ')})`,
    entry: '',
    labels,
    input: { width: DEFAULT_INPUT, height: DEFAULT_INPUT },
    warnings: [],
    write: async (modelDir) => {
      await example.unpackNsfwjsModel(modelDir, 'mobilenet_v2');
    },
  };
}

/** The user's model from `--model` (and `--labels`), checked: labels must match the model's output units. */
export async function userModel(modelArg: string, labelsArg: string | undefined, cwd: string): Promise<StarterModel> {
  const source = await readModelSource(modelArg, cwd);
  const units = source.shape.outputUnits;
  const warnings: string[] = [];
  let labels: string[];
  if (labelsArg !== undefined) {
    const labelsPath = resolve(cwd, labelsArg);
    labels = await readLabelsFile(labelsPath);
    if (units !== null && labels.length !== units) {
      const model = `the model (--model ${resolve(cwd, modelArg)})`;
      throw inputError(
        `--labels ${labelsPath}: ${labels.length} labels, but ${model} has ${units} output units`,
        `give exactly ${units} labels, one per output unit in output order`,
      );
    }
  } else if (units !== null) {
    labels = Array.from({ length: units }, (_, i) => `class-${i}`);
    const file = `models/${source.name}/labels.json`;
    warnings.push(`no --labels: wrote class-0..class-${units - 1} to ${file}; put your class names there`);
  } else {
    const message = `--model ${resolve(cwd, modelArg)}: the model does not say how many classes it has`;
    throw inputError(message, 'pass --labels FILE (a JSON array or one label per line)');
  }
  const { width, height } = source.shape;
  if (width === null || height === null) {
    const size = `${DEFAULT_INPUT}×${DEFAULT_INPUT}`;
    warnings.push(`the model does not fix its input size: ${size} assumed (models[0].input)`);
  }
  const input = { width: width ?? DEFAULT_INPUT, height: height ?? DEFAULT_INPUT };
  return {
    name: source.name,
    kind: source.format,
    about: `your ${source.format} model, ${labels.length} classes, input ${input.width}×${input.height}`,
    entry: source.entry,
    labels,
    input,
    warnings,
    write: async (modelDir) => {
      for (const file of source.files) {
        await mkdir(dirname(join(modelDir, file.to)), { recursive: true });
        await copyFile(file.from, join(modelDir, file.to));
      }
    },
  };
}
