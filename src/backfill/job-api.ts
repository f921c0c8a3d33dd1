/**
 * CreateJob, DescribeJob, ListJobs and UpdateJobStatus behind small functions that return JSON-safe snapshots and
 * turn every AWS error into one line naming the step (exit 3; docs/backfill.md, "Errors").
 */
import {
  CreateJobCommand,
  DescribeJobCommand,
  ListJobsCommand,
  UpdateJobStatusCommand,
  type CreateJobCommandInput,
  type JobDescriptor,
  type JobStatus,
  type S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { awsError } from '../lib/errors.js';

/** What `--wait` follows. */
export interface JobSnapshot {
  readonly jobId: string;
  readonly status: string;
  readonly total: number | null; // null while the manifest is being read
  readonly succeeded: number;
  readonly failed: number;
  readonly elapsedActiveS: number | null;
  readonly failureReasons: readonly { readonly code: string; readonly reason: string }[];
  readonly statusUpdateReason: string | null;
  readonly report: { readonly bucket: string; readonly prefix: string | null; readonly scope: string | null } | null;
  readonly suspendedCause: string | null;
}

/** Statuses after which nothing changes. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['Complete', 'Failed', 'Cancelled']);

/** The hints by error name (`step` is the operation). */
const HINTS: readonly [RegExp, (step: string, roleArn?: string) => string][] = [
  [
    /AccessDenied|Forbidden/i,
    (step, roleArn) =>
      step === 'CreateJob'
        ? `the caller needs s3:CreateJob and iam:PassRole${roleArn ? ` on ${roleArn}` : ''}: ` +
          'lambda-ml policy --backfill prints them'
        : `the caller needs s3:${step} on the job: lambda-ml policy --backfill prints it`,
  ],
  [
    /^IdempotencyException$/,
    () => 'a job was already created with this token and other parameters; ' + 'change the filter or add --force',
  ],
  [/^TooManyRequestsException$|Throttl|SlowDown/, () => 'S3 Batch Operations is throttling: retry in a minute'],
  [/^NotFoundException$|^NoSuchJob/, () => 'jobs are deleted 90 days after they end; check the job id and the region'],
  [/^JobStatusException$/, () => 'the job is not in a state that allows this change (see DescribeJob)'],
];

/** The hint for an AWS error of a step. */
function hintFor(name: string, step: string, roleArn?: string): string {
  const found = HINTS.find(([pattern]) => pattern.test(name));
  return found ? found[1](step, roleArn) : 'see the message; lambda-ml backfill --dry-run prints the request sent';
}

function fail(step: string, what: string, error: unknown, roleArn?: string): never {
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  const message = `S3 Batch Operations ${step} (${what}) failed: ${e.name}${status}: ${e.message}`;
  throw awsError(message, hintFor(e.name, step, roleArn), error);
}

/** A DescribeJob descriptor as a snapshot. */
export function snapshotOf(job: JobDescriptor): JobSnapshot {
  const p = job.ProgressSummary;
  const bucket = job.Report?.Bucket?.replace(/^arn:[^:]+:s3:::/, '') ?? null;
  const report =
    job.Report?.Enabled && bucket
      ? { bucket, prefix: job.Report.Prefix ?? null, scope: job.Report.ReportScope ?? null }
      : null;
  return {
    jobId: job.JobId ?? '',
    status: job.Status ?? 'New',
    total: p?.TotalNumberOfTasks ?? null,
    succeeded: p?.NumberOfTasksSucceeded ?? 0,
    failed: p?.NumberOfTasksFailed ?? 0,
    elapsedActiveS: p?.Timers?.ElapsedTimeInActiveSeconds ?? null,
    failureReasons: (job.FailureReasons ?? []).map((f) => ({
      code: f.FailureCode ?? '',
      reason: f.FailureReason ?? '',
    })),
    statusUpdateReason: job.StatusUpdateReason ?? null,
    report,
    suspendedCause: job.SuspendedCause ?? null,
  };
}

/** The account whose jobs are created and followed, and the client to reach it. */
export interface JobTarget {
  readonly client: S3ControlClient;
  readonly accountId: string;
}

/** Creates the job and returns its id. The same ClientRequestToken returns the same id (a retried command). */
export async function createBackfillJob(client: S3ControlClient, request: CreateJobCommandInput): Promise<string> {
  try {
    const out = await client.send(new CreateJobCommand(request));
    if (!out.JobId) throw new Error('CreateJob returned no JobId');
    return out.JobId;
  } catch (error) {
    return fail('CreateJob', 'creating the job', error, request.RoleArn);
  }
}

/** DescribeJob as a snapshot. */
export async function describeBackfillJob(target: JobTarget, jobId: string): Promise<JobSnapshot> {
  try {
    const out = await target.client.send(new DescribeJobCommand({ AccountId: target.accountId, JobId: jobId }));
    if (!out.Job) throw new Error('DescribeJob returned no Job');
    return snapshotOf(out.Job);
  } catch (error) {
    return fail('DescribeJob', `reading job ${jobId}`, error);
  }
}

/** One job of ListJobs. */
export interface ListedJob {
  readonly jobId: string;
  readonly status: string;
  readonly description: string | null;
  readonly total: number | null;
}

/** ListJobs (every page), optionally filtered by status. */
export async function listBackfillJobs(target: JobTarget, statuses?: readonly JobStatus[]): Promise<ListedJob[]> {
  const jobs: ListedJob[] = [];
  let token: string | undefined;
  try {
    do {
      const filter = statuses ? [...statuses] : undefined;
      const input = { AccountId: target.accountId, JobStatuses: filter, NextToken: token };
      const out = await target.client.send(new ListJobsCommand(input));
      for (const j of out.Jobs ?? []) {
        const total = j.ProgressSummary?.TotalNumberOfTasks ?? null;
        jobs.push({ jobId: j.JobId ?? '', status: j.Status ?? '', description: j.Description ?? null, total });
      }
      token = out.NextToken;
    } while (token);
  } catch (error) {
    return fail('ListJobs', 'listing jobs', error);
  }
  return jobs;
}

/** UpdateJobStatus: `Ready` confirms a Suspended job, `Cancelled` cancels one. Returns the new status. */
export async function updateBackfillJobStatus(
  target: JobTarget,
  jobId: string,
  change: { readonly status: 'Ready' | 'Cancelled'; readonly reason?: string },
): Promise<string> {
  const input = {
    AccountId: target.accountId,
    JobId: jobId,
    RequestedJobStatus: change.status,
    StatusUpdateReason: change.reason,
  };
  try {
    const out = await target.client.send(new UpdateJobStatusCommand(input));
    return out.Status ?? change.status;
  } catch (error) {
    const what = `${change.status === 'Ready' ? 'confirming' : 'cancelling'} job ${jobId}`;
    return fail('UpdateJobStatus', what, error);
  }
}
