/**
 * `backfill --local` end to end: the tasks (from the same listing and filters as a job) run through the packaged
 * handler in the function pool, one Batch Operations 2.0 task per invocation, TemporaryFailure retried with backoff,
 * a completion report written as Batch Operations writes one (docs/backfill.md, "--local").
 */
import { randomUUID } from 'node:crypto';
import { batchTaskEvent, readTaskResult, type BackfillTask } from './batch-event.js';
import type { FunctionPool } from './local-pool.js';
import { createLocalReport, type LocalReport } from './local-report.js';
import { runLocalTasks, type FinishedTask, type RetryPolicy, type RunCounts, type RunSummary } from './local-runner.js';
import type { ManifestObject } from './manifest-csv.js';

/** Numbers the objects as tasks, as Batch Operations gives each manifest row a task id. */
export async function* tasksOf(
  objects: AsyncIterable<ManifestObject> | Iterable<ManifestObject>,
): AsyncGenerator<BackfillTask> {
  let n = 0;
  for await (const object of objects) {
    n++;
    yield { taskId: `task-${n}`, bucket: object.bucket, key: object.key, versionId: object.versionId ?? null };
  }
}

export interface LocalBackfillOptions {
  readonly pool: FunctionPool;
  readonly objects: AsyncIterable<ManifestObject> | Iterable<ManifestObject>;
  readonly userArguments: Readonly<Record<string, string>>;
  readonly report: { readonly dir: string; readonly scope: 'FailedTasksOnly' | 'AllTasks' };
  readonly jobId?: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onFinished?: (finished: FinishedTask, counts: Readonly<RunCounts>) => void;
  readonly onRetry?: (task: BackfillTask, nextAttempt: number, delayMs: number, message: string) => void;
  readonly signal?: AbortSignal;
}

export interface LocalBackfillResult {
  readonly jobId: string;
  readonly summary: RunSummary;
  readonly report: LocalReport;
  readonly pool: ReturnType<FunctionPool['stats']>;
}

/** Runs the backfill locally. The pool is the caller's to close. */
export async function runLocalBackfill(options: LocalBackfillOptions): Promise<LocalBackfillResult> {
  const jobId = options.jobId ?? `local-${randomUUID()}`;
  const report = await createLocalReport({ dir: options.report.dir, jobId, scope: options.report.scope });
  let summary: RunSummary;
  try {
    summary = await runLocalTasks({
      tasks: tasksOf(options.objects),
      concurrency: options.pool.size,
      retry: options.retry,
      sleep: options.sleep,
      signal: options.signal,
      onRetry: options.onRetry,
      worker: async (task, slot) => {
        const event = batchTaskEvent(task, { id: jobId, userArguments: options.userArguments });
        const outcome = await options.pool.invoke(slot, event);
        return readTaskResult(outcome, task.taskId);
      },
      onFinished: (finished, counts) => {
        report.add(finished);
        options.onFinished?.(finished, counts);
      },
    });
  } catch (error) {
    await report.abort();
    throw error;
  }
  return { jobId, summary, report: await report.close(), pool: options.pool.stats() };
}
