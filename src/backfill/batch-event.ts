/**
 * The Lambda payload S3 Batch Operations sends for LambdaInvoke with InvocationSchemaVersion 2.0 (one task per
 * invocation, the key URL-encoded as in the manifest, the job's UserArguments), and how its answer is read: the
 * result code of the task, or a failure for an answer Batch Operations could not use (docs/backfill.md).
 */
import { randomBytes } from 'node:crypto';
import { encodeManifestKey } from './manifest-csv.js';

export type TaskResultCode = 'Succeeded' | 'PermanentFailure' | 'TemporaryFailure';

/** A task of a local run. `key` is the real (decoded) key. */
export interface BackfillTask {
  readonly taskId: string;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;
}

/** The job a task belongs to. */
export interface TaskJob {
  readonly id: string;
  readonly userArguments: Readonly<Record<string, string>>;
}

/** The event of one invocation. */
export function batchTaskEvent(task: BackfillTask, job: TaskJob) {
  return {
    invocationSchemaVersion: '2.0',
    invocationId: randomBytes(24).toString('base64url'),
    job: { id: job.id, userArguments: { ...job.userArguments } },
    tasks: [
      {
        taskId: task.taskId,
        s3Bucket: task.bucket,
        s3Key: encodeManifestKey(task.key),
        s3VersionId: task.versionId,
      },
    ],
  };
}

/** What an invocation gave back: the handler's return value, or the error it threw (or a timeout). */
export type InvocationOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly type: string; readonly message: string } };

/** The task's result, with the message Batch Operations would put in the report. */
export interface TaskResult {
  readonly code: TaskResultCode;
  readonly message: string;
}

const CODES = new Set<string>(['Succeeded', 'PermanentFailure', 'TemporaryFailure']);
const isCode = (value: unknown): value is TaskResultCode => typeof value === 'string' && CODES.has(value);

interface BatchAnswer {
  readonly results?: { taskId?: unknown; resultCode?: unknown; resultString?: unknown }[];
  readonly treatMissingKeysAs?: unknown;
}

/**
 * Reads an invocation's outcome for `taskId`. A function error (thrown, or a timeout) is a PermanentFailure whose
 * message reads as Batch Operations writes it ("Lambda returned function error: {...}"); an answer without a result
 * for the task is a PermanentFailure too. The result string is kept to 1,024 characters.
 */
export function readTaskResult(outcome: InvocationOutcome, taskId: string): TaskResult {
  if (!outcome.ok) {
    const body = JSON.stringify({ errorMessage: outcome.error.message, errorType: outcome.error.type });
    return { code: 'PermanentFailure', message: `Lambda returned function error: ${body}`.slice(0, 1024) };
  }
  const answer = outcome.result as BatchAnswer | null;
  const results = Array.isArray(answer?.results) ? answer.results : [];
  const result = results.find((r) => r?.taskId === taskId);
  if (!result) {
    const missing = isCode(answer?.treatMissingKeysAs) ? answer.treatMissingKeysAs : 'PermanentFailure';
    return { code: missing, message: 'Invalid result from Lambda: no result for this task in the response' };
  }
  if (!isCode(result.resultCode)) {
    const message = `Invalid result from Lambda: resultCode ${JSON.stringify(result.resultCode)}`;
    return { code: 'PermanentFailure', message };
  }
  return { code: result.resultCode, message: String(result.resultString ?? '').slice(0, 1024) };
}
