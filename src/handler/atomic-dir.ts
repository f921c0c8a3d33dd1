/**
 * Folders that appear whole or not at all: fill a temp sibling, then rename it into place (rename is atomic on one
 * filesystem).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive } from '../lib/atomic-dir.js';

const TEMP_PREFIX = '.tmp-';
// Lambda's longest timeout: a temp folder older than this cannot belong to a live invocation.
const STALE_MS = 15 * 60 * 1000;
const ours = new Set<string>();

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The result of atomicDir: where the folder is, and whether this call created it. */
export interface AtomicDirResult {
  readonly dir: string;
  readonly created: boolean;
}

/**
 * Ensures `final` exists, filled by `fill(tempDir)`. A crash mid-fill leaves only a `.tmp-<name>-<pid>-<rand>`
 * sibling that is never used (cleanStaleTemps removes it later). When another process renames its copy
 * first, ours is deleted and theirs is used: concurrent cold starts sharing /tmp are safe.
 */
export async function atomicDir(final: string, fill: (tempDir: string) => Promise<void>): Promise<AtomicDirResult> {
  if (await exists(final)) return { dir: final, created: false };
  const parent = dirname(final);
  await mkdir(parent, { recursive: true });
  const temp = join(parent, `${TEMP_PREFIX}${basename(final)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  ours.add(temp);
  try {
    await mkdir(temp);
    await fill(temp);
    try {
      await rename(temp, final);
      return { dir: final, created: true };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Renaming onto a non-empty folder fails: another process won the race. Use theirs.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(final))) return { dir: final, created: false };
      throw error;
    }
  } finally {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    ours.delete(temp);
  }
}

/**
 * Removes leftover temp folders under `parent`: from dead processes, from an earlier life of this pid
 * (Lambda restarts its runtime after a timeout and pids get reused), or older than 15 minutes.
 * Returns the removed paths. Never throws.
 */
export async function cleanStaleTemps(parent: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const path = join(parent, name);
    if (ours.has(path)) continue;
    const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1] ?? NaN);
    let stale = !Number.isInteger(pid) || pid === process.pid || !isAlive(pid);
    if (!stale)
      stale = await stat(path).then(
        (s) => now - s.mtimeMs > STALE_MS,
        () => false,
      );
    if (stale) {
      await rm(path, { recursive: true, force: true }).then(
        () => removed.push(path),
        () => undefined,
      );
    }
  }
  return removed;
}
