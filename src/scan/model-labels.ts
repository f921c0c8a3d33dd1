/** A model's labels file, read and checked at scan time: `budget` (and `package`) refuse what would mislabel images. */
import { readFile } from 'node:fs/promises';
import { fsError, inputError } from '../lib/errors.js';
import type { ModelConfig } from '../types.js';
import type { OutputUnits } from './model-topology.js';

/** Labels: a JSON array of strings, or an object of index -> label; [] when the model has no labels file. */
export async function readModelLabels(model: Pick<ModelConfig, 'name' | 'labels'>): Promise<string[]> {
  if (model.labels === null) return [];
  let text: string;
  try {
    text = await readFile(model.labels, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const hint =
        `fix "labels" of model "${model.name}" in the config (a JSON array of class names in output order), ` +
        'or remove it to tag class indexes';
      throw inputError(`model "${model.name}": labels file ${model.labels} not found`, hint, error);
    }
    throw fsError(error, model.labels);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const why = (error as Error).message.split('\n')[0];
    const hint = 'give a JSON array of class names in output order, e.g. ["cat", "dog"]';
    throw inputError(`${model.labels}: labels are not valid JSON (${why})`, hint);
  }
  if (Array.isArray(raw) && raw.every((l) => typeof l === 'string')) return raw;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.every(([k, v]) => /^\d+$/.test(k) && typeof v === 'string')) {
      const out: string[] = [];
      for (const [k, v] of entries) out[Number(k)] = v as string;
      return Array.from(out, (l, i) => l ?? String(i));
    }
  }
  const message = `${model.labels}: labels must be a JSON array of strings (or {"0": "label", ...})`;
  throw inputError(message, 'e.g. ["cat", "dog"]');
}

/** Throws when the labels file names a different number of classes than the model outputs. */
export function checkLabelCount(
  model: Pick<ModelConfig, 'name' | 'labels'>,
  labels: readonly string[],
  output: OutputUnits | null,
): void {
  if (output === null || model.labels === null || labels.length === output.units) return;
  throw inputError(
    `model "${model.name}": ${model.labels} has ${labels.length} labels, ` +
      `the model outputs ${output.units} classes (layer ${output.layer})`,
    'give exactly one label per output class, in output order, or check that "path" is the model they belong to',
  );
}
