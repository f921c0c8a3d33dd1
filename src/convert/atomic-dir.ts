import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, inputError } from '../lib/errors.js';

/** Fails early unless `outDir` is absent, empty, or a previous TF.js model folder (which it may replace). */
export async function assertReplaceable(outDir: string): Promise<void> {
  let entries: string[];
  try {
    if (!(await stat(outDir)).isDirectory()) throw inputError(`${outDir}: exists and is not a folder`, 'choose a new folder for the converted model');
    entries = await readdir(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((error as Error).name === 'LambdaMlError') throw error;
    throw fsError(error, outDir);
  }
  if (entries.length > 0 && !entries.includes('model.json')) {
    throw inputError(`${outDir}: folder is not empty and holds no model.json`, 'choose a new or empty folder, or a previous output of convert');
  }
}

/** Makes a temp folder next to `outDir` (same filesystem, so the final rename is atomic). */
export async function makeTempDir(outDir: string): Promise<string> {
  const temp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  try {
    await mkdir(temp, { recursive: true });
  } catch (error) {
    throw fsError(error, dirname(outDir), 'write');
  }
  return temp;
}

/** Moves `temp` to `outDir`; an old output is swapped out first and removed only once the new one is in place. */
export async function commitDir(temp: string, outDir: string): Promise<void> {
  try {
    await rename(temp, outDir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fsError(error, outDir, 'write');
  }
  const old = `${temp}.old`;
  await rename(outDir, old);
  try {
    await rename(temp, outDir);
  } catch (error) {
    await rename(old, outDir); // put the previous output back
    throw fsError(error, outDir, 'write');
  }
  await rm(old, { recursive: true, force: true });
}
