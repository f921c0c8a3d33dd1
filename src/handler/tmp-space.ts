/** How much of /tmp is free, and the clear error when a cold start would not fit. */
import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** The /tmp root: LAMBDA_ML_TMP (tests, `invoke --local`) or /tmp. */
export const tmpRoot = (env: NodeJS.ProcessEnv = process.env) => env.LAMBDA_ML_TMP || '/tmp';

/** Bytes the entries under a folder take on disk (allocated blocks, folders included), as the filesystem counts. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    const blocks = await lstat(p).then(
      (s) => s.blocks * 512,
      () => 0,
    );
    total += blocks + (e.isDirectory() ? await treeBytes(p) : 0);
  }
  return total;
}

/**
 * Free bytes in `dir`: what statfs reports, capped, when LAMBDA_ML_TMP_LIMIT_BYTES is set, by that limit
 * minus the blocks already used under `dir`. The cap emulates a small ephemeral storage on a big disk
 * (tests and `invoke --local`); Lambda's /tmp is its own filesystem, so statfs is exact there.
 */
export async function freeTmpBytes(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const fs = await statfs(dir);
  let free = Number(fs.bavail) * Number(fs.bsize);
  const limit = Number(env.LAMBDA_ML_TMP_LIMIT_BYTES);
  if (env.LAMBDA_ML_TMP_LIMIT_BYTES && Number.isFinite(limit))
    free = Math.min(free, Math.max(0, limit - (await treeBytes(dir))));
  return free;
}

const spaceMessage = (dir: string, need: number, free: number, what: string) =>
  `not enough space in ${dir} for ${what}: needs ${need} bytes, ${free} free. ` +
  'Raise function.ephemeralStorageMb in lambda-ml.config.json (Lambda allows up to 10,240 MB) and redeploy.';

/** Throws a clear error when `need` bytes (on disk, in blocks) do not fit in the free space of `dir`. */
export async function assertTmpSpace(
  dir: string,
  need: number,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const free = await freeTmpBytes(dir, env);
  if (need > free) throw new Error(spaceMessage(dir, need, free, what));
}

/** Whether an error is the disk filling up (ENOSPC, or a quota: EDQUOT). */
export const isNoSpace = (error: unknown) =>
  ['ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException)?.code ?? '');

/**
 * The same clear error as assertTmpSpace for an ENOSPC met while writing (the space went to something else after
 * the check): what was needed and what is free now, with the fix, instead of a bare `ENOSPC ... write`.
 */
export async function tmpSpaceError(
  dir: string,
  need: number,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  cause?: unknown,
): Promise<Error> {
  const free = await freeTmpBytes(dir, env).catch(() => 0);
  return new Error(`${spaceMessage(dir, need, free, what)} (${(cause as Error)?.message ?? 'ENOSPC'})`, { cause });
}
