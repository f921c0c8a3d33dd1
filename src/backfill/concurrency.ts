/**
 * How many tasks a job runs at once (docs/backfill.md, "Concurrency"): S3 Batch Operations invokes the function as
 * fast as Lambda lets it, so the function's reserved concurrency is the job's limit. `backfill.maxConcurrency` sets
 * that reserved concurrency (PutFunctionConcurrency), and the command says so: it limits the trigger too.
 */

export interface ConcurrencyPlan {
  /** The most tasks at once, or null when only the account's unreserved pool limits it. */
  readonly limit: number | null;
  /** The reserved concurrency to set before the job, or null to leave the function as it is. */
  readonly setReserved: number | null;
  readonly note: string;
}

export interface ConcurrencyInputs {
  readonly reserved: number | null; // GetFunctionConcurrency
  readonly maxConcurrency: number | null; // config backfill.maxConcurrency
  readonly unreserved?: number | null; // GetAccountSettings UnreservedConcurrentExecutions
}

/** Decides the job's concurrency from the function's reserved concurrency and `backfill.maxConcurrency`. */
export function planConcurrency(options: ConcurrencyInputs): ConcurrencyPlan {
  const { reserved, maxConcurrency } = options;
  if (maxConcurrency !== null) {
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new Error(`backfill.maxConcurrency must be a whole number ≥ 1, got ${maxConcurrency}`);
    }
    if (reserved === maxConcurrency) {
      const note =
        `the job runs at most ${maxConcurrency} tasks at once ` +
        "(the function's reserved concurrency, as backfill.maxConcurrency asks)";
      return { limit: maxConcurrency, setReserved: null, note };
    }
    const was = reserved === null ? 'none' : String(reserved);
    const note =
      `backfill.maxConcurrency: the function's reserved concurrency is set to ${maxConcurrency} ` +
      `(it was ${was}); the trigger shares this limit`;
    return { limit: maxConcurrency, setReserved: maxConcurrency, note };
  }
  if (reserved !== null) {
    const note = `the job runs at most ${reserved} tasks at once (the function's reserved concurrency)`;
    return { limit: reserved, setReserved: null, note };
  }
  const pool = options.unreserved ? ` (${options.unreserved} in this account)` : '';
  const note =
    `the function has no reserved concurrency: the job may take the account's unreserved concurrency${pool} ` +
    'and throttle other functions; set backfill.maxConcurrency to limit it';
  return { limit: options.unreserved ?? null, setReserved: null, note };
}

/** Seconds a job of `objects` takes at `concurrency`, `msPerImage` each (no cold starts or throttling). */
export function jobSeconds(objects: number, msPerImage: number, concurrency: number): number {
  return (objects * msPerImage) / 1000 / Math.max(1, concurrency);
}
