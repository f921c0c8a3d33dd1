/**
 * The scheduler of `backfill --local` (docs/backfill.md, "--local"): N slots, one task per invocation as Batch
 * Operations does, TemporaryFailure retried with exponential backoff and jitter (the slot takes other work
 * meanwhile), everything else final. The worker is injected: the child-process pool in production, a stub in tests.
 */
import type { BackfillTask, TaskResult, TaskResultCode } from './batch-event.js';

export interface RetryPolicy {
  readonly maxAttempts: number; // attempts in all, the first included
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 };

/** Runs one attempt of a task in `slot` (0..concurrency-1); a slot never runs two tasks at once. */
export type TaskWorker = (task: BackfillTask, slot: number, attempt: number) => Promise<TaskResult>;

/** A task's final outcome. */
export interface FinishedTask {
  readonly task: BackfillTask;
  readonly code: TaskResultCode;
  readonly message: string;
  readonly attempts: number;
  readonly ms: number; // of the last attempt
}

export interface RunCounts {
  succeeded: number;
  failed: number;
  retries: number;
  inFlight: number;
}

export interface RunOptions {
  readonly tasks: Iterable<BackfillTask> | AsyncIterable<BackfillTask>;
  readonly concurrency: number;
  readonly worker: TaskWorker;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly onFinished?: (finished: FinishedTask, counts: Readonly<RunCounts>) => void;
  readonly onRetry?: (task: BackfillTask, nextAttempt: number, delayMs: number, message: string) => void;
  readonly signal?: AbortSignal;
}

export interface RunSummary {
  readonly counts: Readonly<RunCounts>;
  readonly failed: readonly FinishedTask[];
  readonly elapsedMs: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `attempt + 1`: base × 2^(attempt-1), capped, times a jitter factor in [0.5, 1). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(raw * (0.5 + random() * 0.5));
}

interface Item {
  readonly task: BackfillTask;
  readonly attempt: number;
}

/** Runs every task; resolves when all are final. A worker that throws aborts the run (an infrastructure failure). */
export async function runLocalTasks(options: RunOptions): Promise<RunSummary> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new Error(`concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  }
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const source: AsyncIterator<BackfillTask> | Iterator<BackfillTask> =
    Symbol.asyncIterator in options.tasks
      ? (options.tasks as AsyncIterable<BackfillTask>)[Symbol.asyncIterator]()
      : (options.tasks as Iterable<BackfillTask>)[Symbol.iterator]();
  const counts: RunCounts = { succeeded: 0, failed: 0, retries: 0, inFlight: 0 };
  const failed: FinishedTask[] = [];
  const ready: Item[] = [];
  let sourceDone = false;
  let pulling: Promise<IteratorResult<BackfillTask>> | null = null;
  let waitingRetries = 0;
  let fatal: unknown = null;
  let wake: (() => void)[] = [];
  const notify = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };

  /** The next item for a slot, or null when there is no more work for anyone. */
  const next = async (): Promise<Item | null> => {
    for (;;) {
      if (fatal) return null;
      options.signal?.throwIfAborted();
      const retry = ready.shift();
      if (retry) return retry;
      if (!sourceDone) {
        // One pull at a time: iterators (async generators above all) must not be advanced concurrently, and each
        // item goes to the slot that pulled it; the others wait for that pull and look again.
        if (pulling) {
          await pulling.catch(() => {});
          continue;
        }
        const pull = Promise.resolve(source.next());
        pulling = pull;
        let result: IteratorResult<BackfillTask>;
        try {
          result = await pull;
        } catch (error) {
          fatal ??= error; // the listing failed: finish what runs, then throw it
          notify();
          return null;
        } finally {
          pulling = null;
        }
        if (!result.done) return { task: result.value, attempt: 1 };
        sourceDone = true;
        notify();
        continue;
      }
      if (waitingRetries === 0 && counts.inFlight === 0) return null;
      await new Promise<void>((resolve) => wake.push(resolve));
    }
  };

  const finish = (item: Item, result: TaskResult, ms: number) => {
    const { task, attempt: attempts } = item;
    const done: FinishedTask = { task, code: result.code, message: result.message, attempts, ms };
    if (result.code === 'Succeeded') counts.succeeded++;
    else {
      counts.failed++;
      failed.push(done);
    }
    options.onFinished?.(done, counts);
  };

  const slot = async (index: number) => {
    for (let item = await next(); item; item = await next()) {
      counts.inFlight++;
      const t0 = now();
      let result: TaskResult;
      try {
        result = await options.worker(item.task, index, item.attempt);
      } catch (error) {
        fatal ??= error;
        counts.inFlight--;
        notify();
        return;
      }
      const ms = Math.round(now() - t0);
      counts.inFlight--;
      if (result.code === 'TemporaryFailure' && item.attempt < policy.maxAttempts) {
        const delay = backoffMs(item.attempt, policy, random);
        counts.retries++;
        waitingRetries++;
        options.onRetry?.(item.task, item.attempt + 1, delay, result.message);
        const again: Item = { task: item.task, attempt: item.attempt + 1 };
        void sleep(delay).then(() => {
          waitingRetries--;
          ready.push(again);
          notify();
        });
      } else {
        finish(item, result, ms);
      }
      notify();
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => slot(i)));
  if (fatal) throw fatal;
  return { counts: { ...counts }, failed, elapsedMs: Math.round(now() - started) };
}
