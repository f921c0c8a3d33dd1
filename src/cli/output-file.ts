/**
 * A file a flag asks the CLI to write (e.g. `budget --markdown FILE`): checked before the work starts, so a bad
 * path fails fast and leaves nothing, and written with one-line errors that name the flag and the file.
 */
import { constants } from 'node:fs';
import { access, appendFile, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative } from 'node:path';
import { fsError, inputError } from '../lib/errors.js';

/** Fails unless `path` (absolute; `shown` as the user gave it) is a file that can be written, or can be created. */
export async function checkOutputFile(flag: string, path: string, shown: string): Promise<void> {
  const here = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null; // absent, or under a file: told below
    throw fsError(error, `${flag} ${shown}`, 'write');
  });
  if (here?.isDirectory()) {
    const example = `${shown.replace(/\/+$/, '')}/budget.md`;
    throw inputError(`${flag} ${shown}: is a folder, not a file`, `give a file path, e.g. ${flag} ${example}`);
  }
  if (here) return checkAccess(flag, path, shown);
  const folder = await findExisting(dirname(path));
  if (!folder.isDirectory) {
    throw inputError(`${flag} ${shown}: ${folder.path} is a file, not a folder`, 'choose another path');
  }
  if (folder.path !== dirname(path)) {
    const missing = dirname(path);
    throw inputError(`${flag} ${shown}: folder ${missing} does not exist`, 'create it first, or choose another path');
  }
  await checkAccess(flag, folder.path, shown);
}

/** Appends `text` to the file (as GITHUB_STEP_SUMMARY expects), with the same one-line errors. */
export async function appendOutputFile(flag: string, path: string, shown: string, text: string): Promise<void> {
  await appendFile(path, text).catch((error) => {
    throw fsError(error, `${flag} ${shown}`, 'write');
  });
}

async function checkAccess(flag: string, path: string, shown: string): Promise<void> {
  // root passes access() for any mode bits; a read-only mount or /sys still fails here
  await access(path, constants.W_OK).catch((error) => {
    throw fsError(error, `${flag} ${shown}`, 'write');
  });
}

/** The nearest existing ancestor of `path` (or `path` itself) and whether it is a folder. */
async function findExisting(path: string): Promise<{ path: string; isDirectory: boolean }> {
  let current = path;
  for (;;) {
    const found = await stat(current).catch(() => null);
    if (found) return { path: current, isDirectory: found.isDirectory() };
    const up = dirname(current);
    if (up === current) return { path: current, isDirectory: true };
    current = up;
  }
}

/**
 * Fails unless `path` (a folder a flag names, e.g. `package --out`) is a folder or can be created: an existing
 * file at it or on its way is named, with the flag in the hint, before anything is written.
 */
export async function checkOutputFolder(flag: string, path: string, shown: string): Promise<void> {
  const nearest = await findExisting(path);
  const choose = `choose another ${flag} folder`;
  if (!nearest.isDirectory) {
    if (nearest.path === path) throw inputError(`${flag} ${shown}: is a file, not a folder`, choose);
    throw inputError(`${flag} ${shown}: ${nearest.path} is a file, not a folder`, `${choose}, or move that file away`);
  }
  await access(nearest.path, constants.W_OK).catch((error) => {
    throw fsError(error, `${flag} ${shown}`, 'write', `make ${nearest.path} writable, or ${choose}`);
  });
}

/**
 * `--out` of package/deploy is replaced as a whole (lib/atomic-dir.ts): so it must not be the project folder (or
 * hold it), and an existing folder must be empty or a previous output (it has a manifest.json).
 */
export async function checkPackageOut(path: string, shown: string, projectDir: string): Promise<void> {
  await checkOutputFolder('--out', path, shown);
  const inside = relative(path, projectDir);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw inputError(
      `--out ${shown}: is the project folder or holds it, and package replaces --out as a whole`,
      'give package a folder of its own, e.g. --out .lambda-ml',
    );
  }
  const entries = await readdir(path).catch(() => [] as string[]);
  if (entries.length > 0 && !entries.includes('manifest.json')) {
    throw inputError(
      `--out ${shown}: folder is not empty and holds no manifest.json (not a previous package output)`,
      'choose a new or empty folder, or the --out of an earlier package run',
    );
  }
}
