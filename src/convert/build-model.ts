import * as tf from '@tensorflow/tfjs';
import { inputError } from '../lib/errors.js';

type Json = Record<string, unknown>;

/** A layer entry found anywhere in a Keras config (nested models included). */
export interface LayerEntry { readonly name: string; readonly className: string }

/** Lists the layers of a Keras model config, depth first, nested models and their layers included. */
export function listLayers(modelConfig: Json): LayerEntry[] {
  const out: LayerEntry[] = [];
  const visit = (entry: Json) => {
    const config = entry.config as Json | Json[] | undefined;
    const name = Array.isArray(config) ? '' : String(config?.name ?? '');
    out.push({ name, className: String(entry.class_name) });
    const children = Array.isArray(config) ? config : (config?.layers as Json[] | undefined);
    for (const child of children ?? []) visit(child);
  };
  visit(modelConfig);
  return out;
}

/** Throws an input error naming the first layer whose class TF.js layers does not implement. */
export function assertSupported(modelConfig: Json, label: string): void {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const layer of listLayers(modelConfig)) {
    if (!(layer.className in known)) {
      throw inputError(
        `${label}: layer ${layer.name || '(unnamed)'} is a ${layer.className}, which TF.js does not support`,
        'replace it with built-in layers (custom and Lambda layers cannot be converted), or register a custom layer class in the handler',
      );
    }
  }
}

/** Replaces every `*_initializer` with Zeros so building the skeleton costs no random numbers (and untouched zero pages cost no RSS). */
function withZeroInit(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withZeroInit);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value as Json)) {
    out[key] = key.endsWith('_initializer') && inner !== null && typeof inner === 'object' ? { class_name: 'Zeros', config: {} } : withZeroInit(inner);
  }
  return out;
}

/** Builds the TF.js model for a Keras config, so weight names and shapes come from TF.js itself. Dispose it after use. */
export async function buildModel(modelConfig: Json, label: string, options: { zeroInit?: boolean } = {}): Promise<tf.LayersModel> {
  assertSupported(modelConfig, label);
  const config = options.zeroInit === false ? modelConfig : withZeroInit(modelConfig);
  try {
    return await tf.models.modelFromJSON({ modelTopology: config as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON);
  } catch (error) {
    throw inputError(`${label}: TF.js cannot build this model (${firstLine(error)})`, 'the model uses a layer option TF.js layers does not support; see the message above', error);
  }
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0];
