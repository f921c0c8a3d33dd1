/**
 * The invocation's deadline (docs/handler.md, "Results"): a record that cannot finish before Lambda's timeout is
 * answered as a temporary failure a little before it, so S3 Batch Operations re-drives it (a timed-out invocation is
 * a function error that Batch Operations reports as a permanent failure) and an S3 event is retried.
 */

/** Time kept back for answering: the response, the log lines. */
export const DEADLINE_MARGIN_MS = 1000;

export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/**
 * Runs `work` unless less than `marginMs` remains; rejects with DeadlineError when `marginMs` before the deadline
 * comes first (the work is left to finish on its own: what it writes is idempotent). Without a clock, just runs it.
 */
export async function beforeDeadline<T>(
  work: () => Promise<T>,
  remainingMs: (() => number) | undefined,
  marginMs = DEADLINE_MARGIN_MS,
): Promise<T> {
  if (!remainingMs) return work();
  const left = remainingMs() - marginMs;
  if (left <= 0) {
    const had = Math.max(0, Math.round(left + marginMs));
    throw new DeadlineError(`only ${had} ms of the invocation were left: not started`);
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const message = `the invocation's deadline was ${marginMs} ms away: answered before Lambda's timeout`;
    timer = setTimeout(() => reject(new DeadlineError(message)), left);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
