/** Writes a report file whole or not at all: a temp file beside it, then a rename (nothing half-written is left). */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError } from '../../lib/errors.js';

/** Writes `text` to `path` (absolute; `shown` as the user gave it) through `.NAME.tmp-XXXX` and a rename. */
export async function writeReportFile(flag: string, path: string, shown: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw fsError(error, `${flag} ${shown}`, 'write');
  }
}

/** Reads a file a flag names (e.g. `--base FILE`), with a one-line error naming the flag. */
export async function readFlagFile(flag: string, path: string, shown: string, hint: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    const isDenied = error.code === 'EACCES' || error.code === 'EPERM';
    throw fsError(error, `${flag} ${shown}`, 'read', isDenied ? undefined : hint);
  });
}
