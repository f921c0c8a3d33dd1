/**
 * Checks a test event before `invoke --local` starts the function: an S3 notification (Records[]) or an S3 Batch
 * Operations event (schema 1.0 or 2.0), with the fields the handler reads (src/handler/event.ts). The handler itself
 * is lenient (it skips records it cannot use, as on Lambda); a hand-written event gets told what is wrong instead.
 * Shapes: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
const kind = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
const isByteCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

const SHAPES = 'an S3 event ({"Records": [...]}) or a Batch Operations event ({"tasks": [...]})';
/** Per Batch Operations schema: the field naming the bucket. */
const BATCH_BUCKET_FIELD: Record<string, string> = { '1.0': 's3BucketArn', '2.0': 's3Bucket' };
const BUCKET_ARN = /^arn:[^:]+:s3:::[^/]+$/;

/** What is wrong with `event`, as "PATH: problem", or null when the handler can use it. */
export function eventProblem(event: unknown): string | null {
  if (!isObject(event)) return `$: is ${kind(event)}, not ${SHAPES}`;
  if ('Records' in event) return recordsProblem(event.Records);
  if ('tasks' in event || 'invocationSchemaVersion' in event) return batchProblem(event);
  return (
    '$: has neither "Records" (an S3 notification) nor "invocationSchemaVersion" and "tasks" ' + '(S3 Batch Operations)'
  );
}

function recordsProblem(records: unknown): string | null {
  if (!Array.isArray(records)) return `Records: is ${kind(records)}, not an array of S3 records`;
  if (records.length === 0) return 'Records: is empty (give at least one S3 record)';
  for (const [i, record] of records.entries()) {
    const at = `Records[${i}]`;
    if (!isObject(record)) return `${at}: is ${kind(record)}, not an S3 record`;
    if (record.eventName !== undefined && !isText(record.eventName)) {
      return `${at}.eventName: must be a string such as "ObjectCreated:Put"`;
    }
    const s3 = record.s3;
    if (!isObject(s3)) return `${at}.s3: is missing (an S3 record has s3.bucket.name and s3.object.key)`;
    if (!isObject(s3.bucket) || !isText(s3.bucket.name)) return `${at}.s3.bucket.name: is missing or not a string`;
    if (!isObject(s3.object) || !isText(s3.object.key)) return `${at}.s3.object.key: is missing or not a string`;
    if (s3.object.size !== undefined && !isByteCount(s3.object.size)) {
      return `${at}.s3.object.size: must be a whole number of bytes`;
    }
  }
  return null;
}

function batchProblem(event: Json): string | null {
  const version = event.invocationSchemaVersion;
  if (version === undefined) return 'invocationSchemaVersion: is missing (S3 Batch Operations sends "1.0" or "2.0")';
  const bucketField = typeof version === 'string' ? BATCH_BUCKET_FIELD[version] : undefined;
  if (!bucketField) {
    return `invocationSchemaVersion: ${JSON.stringify(version)} is not one S3 Batch Operations sends ("1.0" or "2.0")`;
  }
  if (!isText(event.invocationId)) return 'invocationId: is missing or not a string';
  const tasks = event.tasks;
  if (!Array.isArray(tasks)) return `tasks: is ${tasks === undefined ? 'missing' : kind(tasks)}, not an array of tasks`;
  if (tasks.length === 0) return 'tasks: is empty (give at least one task)';
  for (const [i, task] of tasks.entries()) {
    const at = `tasks[${i}]`;
    if (!isObject(task)) return `${at}: is ${kind(task)}, not a task`;
    if (!isText(task.taskId)) return `${at}.taskId: is missing or not a string`;
    if (!isText(task.s3Key)) return `${at}.s3Key: is missing or not a string`;
    const bucket = task[bucketField];
    if (!isText(bucket)) {
      return `${at}.${bucketField}: is missing or not a string (schema ${version} names the bucket there)`;
    }
    if (bucketField === 's3BucketArn' && !BUCKET_ARN.test(bucket)) {
      return `${at}.s3BucketArn: "${bucket}" is not an S3 bucket ARN (arn:aws:s3:::bucket)`;
    }
  }
  return null;
}
