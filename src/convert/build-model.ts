import * as tf from '@tensorflow/tfjs';
import { registerCustomLayers } from '../handler/custom-layers.js';
import { inputError } from '../lib/errors.js';
import { prepareModel, type PrepareInput, type Prepared } from './prepare-model.js';
import { probedShapes } from './probe.js';
import { unsupportedError } from './unsupported.js';

// the custom layers some rewrites produce (docs/convert.md), so the converter builds what the handler will load
registerCustomLayers(tf);

type Json = Record<string, unknown>;

/** A layer entry found anywhere in a Keras config (nested models included). */
export interface LayerEntry {
  readonly name: string;
  readonly className: string;
}

/** Lists the layers of a Keras model config, depth first, nested models and their layers included. */
export function listLayers(modelConfig: Json): LayerEntry[] {
  const out: LayerEntry[] = [];
  const visit = (entry: Json) => {
    const config = entry.config as Json | Json[] | undefined;
    const name = Array.isArray(config) ? '' : String(config?.name ?? entry.name ?? '');
    out.push({ name, className: String(entry.class_name) });
    const children = Array.isArray(config) ? config : (config?.layers as Json[] | undefined);
    for (const child of children ?? []) visit(child);
  };
  visit(modelConfig);
  return out;
}

/**
 * Replaces every `*_initializer` with Zeros so building the skeleton costs no random numbers (and untouched zero pages
 * cost no RSS).
 */
function withZeroInit(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withZeroInit);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value as Json)) {
    out[key] =
      key.endsWith('_initializer') && inner !== null && typeof inner === 'object'
        ? { class_name: 'Zeros', config: {} }
        : withZeroInit(inner);
  }
  return out;
}

/**
 * Builds the TF.js model for a Keras config, so weight names and shapes come from TF.js itself. Dispose it after use.
 */
export async function buildModel(
  modelConfig: Json,
  label: string,
  options: { zeroInit?: boolean } = {},
): Promise<tf.LayersModel> {
  const config = options.zeroInit === false ? modelConfig : withZeroInit(modelConfig);
  try {
    return await tf.models.modelFromJSON({
      modelTopology: config as tf.io.ModelJSON['modelTopology'],
    } as tf.io.ModelJSON);
  } catch (error) {
    throw inputError(
      `${label}: TF.js cannot build this model (${firstLine(error)})`,
      'the model uses a layer option TF.js layers does not support; see the message above',
      error,
    );
  }
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0];

/**
 * Prepares a Keras config for TF.js (prepare-model.ts): one pass, or two when a rewrite needs input shapes (the
 * first pass's model, with placeholders, is built to learn them). Throws one error listing every problem.
 */
export async function prepareForTfjs(input: Omit<PrepareInput, 'shapes'>, label: string): Promise<Prepared> {
  let pass = prepareModel(input);
  if (pass.problems.length > 0) throw unsupportedError(label, pass.problems);
  if (pass.probes.size === 0) return pass;
  const model = await buildModel(pass.modelConfig, label);
  let shapes;
  try {
    shapes = probedShapes(model, pass.probes);
  } finally {
    model.dispose();
  }
  pass = prepareModel({ ...input, shapes });
  if (pass.problems.length > 0) throw unsupportedError(label, pass.problems);
  if (pass.probes.size > 0) throw new Error(`convert: input shapes of ${[...pass.probes].join(', ')} stayed unknown`);
  return pass;
}
