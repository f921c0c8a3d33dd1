/**
 * Leftovers of killed cold starts (docs/handler.md, "Cold start"): a kill mid-extraction leaves a temp folder, and
 * a timeout that keeps recurring leaves one per attempt. They are removed at the start of every cold start, before
 * the space check, so repeated kills cannot fill /tmp for good.
 */
import { join } from 'node:path';
import { cleanStaleTemps } from './atomic-dir.js';

/** Removes the dead temp folders of the deps and of the models under `tmpDir`; returns what it removed. */
export async function cleanDeadTemps(tmpDir: string): Promise<string[]> {
  const base = join(tmpDir, 'lambda-ml');
  return [...(await cleanStaleTemps(base)), ...(await cleanStaleTemps(join(base, 'models')))];
}
