/**
 * The job engine of the loopback S3 Control server: Batch Operations' job states (New → Preparing → Suspended
 * (confirmation required) or Ready → Active → Complete; Failed; Cancelled), the object list read as S3 reads it
 * (the manifest generator lists the source bucket with its KeyNameConstraint filter; a CSV manifest is fetched, its
 * ETag checked and its URL-encoded keys decoded), progress counters, TemporaryFailure retried, and the completion
 * report written to the report bucket as AWS documents it (job-<id>/manifest.json and results/<sha>.csv rows
 * `bucket,key,version,status,httpStatus,errorCode,message`, as in AWS's sample reports).
 * Tasks succeed or fail as the test's `decide` hook says.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { child, readList, readMap, textOf, type El } from './s3control-xml.js';

export type TaskCode = 'Succeeded' | 'PermanentFailure' | 'TemporaryFailure';

/** One task as the test hook sees it: the real (decoded) key. */
export interface JobTask {
  readonly taskId: string;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;
  readonly encodedKey: string;
}

/** Decides a task's result: the test's stand-in for the Lambda function. */
export interface TaskOutcome {
  readonly code: TaskCode;
  readonly message?: string;
}
export type DecideTask = (task: JobTask, attempt: number, job: JobRecord) => TaskOutcome | Promise<TaskOutcome>;

export interface JobRecord {
  readonly accountId: string;
  readonly jobId: string;
  readonly token: string;
  readonly requestHash: string;
  readonly request: El; // the CreateJobRequest element, echoed back by DescribeJob
  status: string;
  priority: number;
  readonly confirmationRequired: boolean;
  readonly creationTime: Date;
  terminationDate: Date | null;
  suspendedDate: Date | null;
  suspendedCause: string | null;
  statusUpdateReason: string | null;
  activeSince: number | null;
  activeMs: number;
  tasks: JobTask[] | null;
  next: number;
  succeeded: number;
  failed: number;
  readonly failureReasons: { code: string; reason: string }[];
  readonly rows: { task: JobTask; status: 'succeeded' | 'failed'; code: string; message: string }[];
  readonly functionArn: string;
  readonly userArguments: Record<string, string>;
  reportWritten: string | null; // the report's manifest.json key
}

export const TERMINAL = new Set(['Complete', 'Failed', 'Cancelled']);

const bucketOfArn = (arn: string) => arn.replace(/^arn:[^:]+:s3:::/, '');

/** Batch Operations' decoding of manifest keys: URL-encoded, `+` a space. */
export const decodeKey = (encoded: string) => {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return encoded;
  }
};

/** Moves a job to `status`, keeping its timers. */
export function setStatus(job: JobRecord, status: string, now = Date.now()): void {
  if (job.status === 'Active' && job.activeSince !== null) {
    job.activeMs += now - job.activeSince;
    job.activeSince = null;
  }
  job.status = status;
  if (status === 'Active') job.activeSince = now;
  if (status === 'Suspended') {
    job.suspendedDate = new Date(now);
    job.suspendedCause = 'ConfirmationRequired';
  }
  if (TERMINAL.has(status)) job.terminationDate = new Date(now);
}

function fail(job: JobRecord, code: string, reason: string): void {
  job.failureReasons.push({ code, reason: reason.slice(0, 256) });
  setStatus(job, 'Failed');
}

/** The csv fields of a manifest line (quotes allowed, as in RFC 4180). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

async function listGenerator(s3: S3Client, job: JobRecord, generator: El): Promise<JobTask[]> {
  const bucket = bucketOfArn(textOf(generator, 'SourceBucket') ?? '');
  const names = child(child(generator, 'Filter'), 'KeyNameConstraint');
  const prefixes = readList(child(names, 'MatchAnyPrefix'));
  const suffixes = readList(child(names, 'MatchAnySuffix'));
  const substrings = readList(child(names, 'MatchAnySubstring'));
  const tasks: JobTask[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? '';
      if (prefixes.length && !prefixes.some((p) => key.startsWith(p))) continue;
      if (suffixes.length && !suffixes.some((s) => key.endsWith(s))) continue;
      if (substrings.length && !substrings.some((s) => key.includes(s))) continue;
      const encodedKey = encodeURIComponent(key).replace(/%2F/g, '/');
      tasks.push({ taskId: `${job.jobId}-${tasks.length + 1}`, bucket, key, versionId: null, encodedKey });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return tasks;
}

async function readCsvManifest(s3: S3Client, job: JobRecord, manifest: El): Promise<JobTask[] | string> {
  const location = child(manifest, 'Location');
  const arn = textOf(location, 'ObjectArn') ?? '';
  const [bucket, ...rest] = bucketOfArn(arn).split('/');
  const key = rest.join('/');
  let body: string;
  let etag: string;
  try {
    const versionId = textOf(location, 'ObjectVersionId');
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    body = (await out.Body?.transformToString('utf8')) ?? '';
    etag = (out.ETag ?? '').replace(/"/g, '');
  } catch (error) {
    return `Reading the manifest object ${arn} failed: ${(error as Error).name}`;
  }
  if (etag !== (textOf(location, 'ETag') ?? '').replace(/"/g, '')) {
    return `The ETag of the manifest object ${arn} does not match the ETag in the request`;
  }
  const fields = readList(child(child(manifest, 'Spec'), 'Fields'));
  const col = (name: string) => fields.indexOf(name);
  const tasks: JobTask[] = [];
  for (const line of body.split(/\r?\n/)) {
    if (line === '') continue;
    const f = csvFields(line);
    const encodedKey = f[col('Key')] ?? '';
    const version = col('VersionId') >= 0 ? f[col('VersionId')] || null : null;
    const bucket = f[col('Bucket')] ?? '';
    const taskId = `${job.jobId}-${tasks.length + 1}`;
    tasks.push({ taskId, bucket, key: decodeKey(encodedKey), versionId: version, encodedKey });
  }
  return tasks;
}

/** Preparing: reads the object list; the job moves on to Suspended/Ready, or Failed. */
export async function prepare(job: JobRecord, s3: S3Client | null): Promise<void> {
  if (!s3) return fail(job, 'ManifestUnreadable', 'the loopback server was started without an S3 endpoint');
  const generator = child(child(job.request, 'ManifestGenerator'), 'S3JobManifestGenerator');
  try {
    if (generator) {
      const owner = textOf(generator, 'ExpectedBucketOwner');
      if (owner && owner !== job.accountId) {
        return fail(job, 'AccessDenied', `The source bucket is not owned by the expected bucket owner ${owner}`);
      }
      job.tasks = await listGenerator(s3, job, generator);
    } else {
      const tasks = await readCsvManifest(s3, job, child(job.request, 'Manifest')!);
      if (typeof tasks === 'string') return fail(job, 'ManifestUnreadable', tasks);
      job.tasks = tasks;
    }
  } catch (error) {
    return fail(job, 'ManifestUnreadable', `Listing the source bucket failed: ${(error as Error).name}`);
  }
  setStatus(job, job.confirmationRequired ? 'Suspended' : 'Ready');
}

/** Runs up to `count` more tasks of an Active job through `decide`; completes the job after the last. */
export async function runTasks(job: JobRecord, decide: DecideTask, count: number, maxAttempts: number): Promise<void> {
  if (job.status !== 'Active' || !job.tasks) throw new Error(`job ${job.jobId} is ${job.status}, not Active`);
  for (let n = 0; n < count && job.next < job.tasks.length; n++) {
    const task = job.tasks[job.next++];
    let result: TaskOutcome = { code: 'TemporaryFailure' };
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      result = await decide(task, attempt, job);
      if (result.code !== 'TemporaryFailure') break;
    }
    const ok = result.code === 'Succeeded';
    if (ok) job.succeeded++;
    else job.failed++;
    const code = ok ? '' : result.code;
    job.rows.push({ task, status: ok ? 'succeeded' : 'failed', code, message: result.message ?? '' });
  }
  if (job.next >= job.tasks.length) setStatus(job, 'Complete');
}

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Writes the completion report of a terminal job (when it has one and at least one task ran). */
export async function writeReport(job: JobRecord, s3: S3Client | null): Promise<void> {
  const report = child(job.request, 'Report');
  if (!s3 || textOf(report, 'Enabled') !== 'true' || job.rows.length === 0 || job.reportWritten) return;
  const bucket = bucketOfArn(textOf(report, 'Bucket') ?? '');
  const prefix = textOf(report, 'Prefix') ?? '';
  const scope = textOf(report, 'ReportScope') ?? 'AllTasks';
  const base = `${prefix ? `${prefix}/` : ''}job-${job.jobId}`;
  const results = [];
  for (const status of ['succeeded', 'failed'] as const) {
    if (status === 'succeeded' && scope === 'FailedTasksOnly') continue;
    const rows = job.rows.filter((r) => r.status === status);
    if (rows.length === 0) continue;
    const line = (r: JobRecord['rows'][number]) =>
      [r.task.bucket, r.task.encodedKey, r.task.versionId ?? '', r.status, '200', r.code, r.message]
        .map(quote)
        .join(',');
    const csv = `${rows.map(line).join('\n')}\n`;
    const key = `${base}/results/${createHash('sha1').update(`${job.jobId}${status}`).digest('hex')}.csv`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: csv }));
    const md5 = createHash('md5').update(csv).digest('hex');
    results.push({ TaskExecutionStatus: status, Bucket: bucket, MD5Checksum: md5, Key: key });
  }
  const manifest = {
    Format: 'Report_CSV_20180820',
    ReportCreationDate: new Date().toISOString(),
    Results: results,
    ReportSchema: 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage',
  };
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${base}/manifest.json`, Body: JSON.stringify(manifest) }));
  job.reportWritten = `${base}/manifest.json`;
}

/** The function and UserArguments of a request's LambdaInvoke. */
export function lambdaOf(request: El): { functionArn: string; userArguments: Record<string, string> } {
  const lambda = child(child(request, 'Operation'), 'LambdaInvoke');
  return { functionArn: textOf(lambda, 'FunctionArn') ?? '', userArguments: readMap(child(lambda, 'UserArguments')) };
}
