/**
 * `backfill --wait`: polls DescribeJob until the job ends (Complete, Failed or Cancelled), feeding each snapshot to
 * `onUpdate` (the progress printer). A job waiting for confirmation (Suspended) ends the wait: it would never move.
 */
import { TERMINAL_STATUSES, type JobSnapshot } from './job-api.js';

export interface WaitOptions {
  readonly describe: () => Promise<JobSnapshot>;
  readonly onUpdate?: (snapshot: JobSnapshot, atMs: number) => void;
  readonly pollMs?: number; // default 5 s; DescribeJob is throttled per account
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Returns the last snapshot: terminal, or Suspended (confirmation required). */
export async function waitForJob(options: WaitOptions): Promise<JobSnapshot> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  for (;;) {
    options.signal?.throwIfAborted();
    const snapshot = await options.describe();
    options.onUpdate?.(snapshot, now());
    if (TERMINAL_STATUSES.has(snapshot.status) || snapshot.status === 'Suspended') return snapshot;
    await sleep(options.pollMs ?? 5000);
  }
}

/** `--wait`'s exit code: 0 when every task succeeded, 1 when any failed or the job did not complete. */
export function waitExitCode(snapshot: JobSnapshot): 0 | 1 {
  return snapshot.status === 'Complete' && snapshot.failed === 0 ? 0 : 1;
}
