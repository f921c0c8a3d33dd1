/**
 * Folder outputs written atomically: build in a temp folder beside the target (same filesystem, so rename is
 * atomic), then swap it in. Used by `package` (--out) and `convert` (OUT). The Lambda handler's cache folders
 * (src/handler/atomic-dir.ts: fill once, first rename wins, never replaced) use `isAlive` from here.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, inputError } from './errors.js';

/** `.NAME.tmp-<pid>-<random>` beside `target`: the pid lets a later run tell a dead run's leftovers. */
export async function makeTempDirBeside(target: string): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { recursive: true }).catch((error) => {
    throw fsError(error, dirname(target), 'write');
  });
  return temp;
}

/** Moves `temp` to `target`; a previous `target` is moved aside first and removed only once the new one is in place. */
export async function replaceDir(temp: string, target: string): Promise<void> {
  try {
    await rename(temp, target); // target absent (or an empty folder): done
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw inputError(`${target} exists and is not a folder`, 'choose another output folder');
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fsError(error, target, 'write');
  }
  const old = `${temp}.old`;
  await rename(target, old);
  try {
    await rename(temp, target);
  } catch (error) {
    await rename(old, target); // put the previous output back
    throw fsError(error, target, 'write');
  }
  await rm(old, { recursive: true, force: true });
}

/**
 * Removes temp folders of `target` left by runs that were killed (their pid is gone). A run killed between the two
 * renames of replaceDir left the previous output in `.old` and no `target`: that one is put back.
 */
export async function cleanStaleTemps(target: string): Promise<void> {
  const parent = dirname(target);
  const prefix = `.${basename(target)}.tmp-`;
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    if (entry.endsWith('.old') && !existsSync(target)) await rename(join(parent, entry), target);
    else await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/** Whether a process id is running (EPERM: it exists but is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
