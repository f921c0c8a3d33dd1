/** `init --labels FILE`: a JSON array of class names, a JSON {"0": "label", ...} object, or one label per line. */
import { readFile } from 'node:fs/promises';
import { fsError, inputError } from '../../../lib/errors.js';

const HINT = 'give a JSON array of class names in output order (["cat", "dog"]), or a file with one label per line';

/** The labels in output order; an input error naming `--labels` and the file for anything else. */
export async function readLabelsFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw inputError(`--labels ${path}: not found`, HINT, error);
    if (code === 'EISDIR') throw inputError(`--labels ${path}: is a folder`, HINT, error);
    const wrapped = fsError(error, path);
    throw inputError(`--labels ${wrapped.message}`, wrapped.hint, error);
  }
  if (text.includes('\0')) throw inputError(`--labels ${path}: not a text file`, HINT);
  const body = text.replace(/^\uFEFF/, '').trim();
  const lines = () =>
    body
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean);
  const labels = /^[[{]/.test(body) ? jsonLabels(body, path) : lines();
  if (labels.length === 0) throw inputError(`--labels ${path}: no labels in it`, HINT);
  return labels;
}

function jsonLabels(body: string, path: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    throw inputError(`--labels ${path}: not valid JSON (${(error as Error).message.split('\n')[0]})`, HINT, error);
  }
  if (Array.isArray(raw) && raw.every((label) => typeof label === 'string')) return raw.map((label) => label.trim());
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const entries = Object.entries(raw);
    const isIndexed = entries.every(([key, label], i) => key === String(i) && typeof label === 'string');
    if (isIndexed) return entries.map(([, label]) => String(label).trim());
  }
  throw inputError(`--labels ${path}: not a JSON array of strings (or {"0": "label", ...} in index order)`, HINT);
}
