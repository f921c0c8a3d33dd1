/** How much of /tmp is free, and the clear error when a cold start would not fit. */
import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** The /tmp root: LAMBDA_ML_TMP (tests, `invoke --local`) or /tmp. */
export const tmpRoot = (env: NodeJS.ProcessEnv = process.env) => env.LAMBDA_ML_TMP || '/tmp';

/** Apparent bytes of the regular files under a folder (what counts against the ephemeral storage quota). */
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
    if (e.isDirectory()) total += await treeBytes(p);
    else if (e.isFile()) total += (await lstat(p)).size;
  }
  return total;
}

/**
 * Free bytes in `dir`: what statfs reports, capped, when LAMBDA_ML_TMP_LIMIT_BYTES is set, by that limit
 * minus what is already under `dir`. The cap emulates a small ephemeral storage on a big disk
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

/** Throws a clear error when `need` bytes do not fit in the free space of `dir`. */
export async function assertTmpSpace(
  dir: string,
  need: number,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const free = await freeTmpBytes(dir, env);
  if (need > free) {
    throw new Error(
      `not enough space in ${dir} for ${what}: needs ${need} bytes, ${free} free. ` +
        'Raise function.ephemeralStorageMb in lambda-ml.config.json (Lambda allows up to 10,240 MB) and redeploy.',
    );
  }
}
