import { readdir, stat } from 'node:fs/promises';
import { fsError, inputError } from '../lib/errors.js';

/** Fails early unless `outDir` is absent, empty, or a previous TF.js model folder (which it may replace). */
export async function assertReplaceable(outDir: string): Promise<void> {
  let entries: string[];
  try {
    if (!(await stat(outDir)).isDirectory())
      throw inputError(`${outDir}: exists and is not a folder`, 'choose a new folder for the converted model');
    entries = await readdir(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((error as Error).name === 'LambdaMlError') throw error;
    throw fsError(error, outDir);
  }
  if (entries.length > 0 && !entries.includes('model.json')) {
    throw inputError(
      `${outDir}: folder is not empty and holds no model.json`,
      'choose a new or empty folder, or a previous output of convert',
    );
  }
}
