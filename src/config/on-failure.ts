/**
 * `trigger.onFailure` (docs/deploy.md, "Failures that are not lost"): where Lambda sends the record of an asynchronous
 * invocation that failed all its attempts. An SQS queue ARN (standard queues only: Lambda cannot deliver to FIFO) or
 * an S3 bucket, written `s3://bucket` (Lambda writes its records under its own keys, so a prefix cannot be chosen).
 */
import { bucketNameProblem } from '../lib/s3-bucket-name.js';
import { splitS3Url } from '../lib/s3-url.js';

export type OnFailureTarget =
  | {
      readonly kind: 'sqs';
      readonly arn: string;
      readonly queue: string;
      readonly region: string;
      readonly account: string;
    }
  | { readonly kind: 's3'; readonly arn: string; readonly bucket: string };

const SQS_ARN = /^arn:(aws[a-zA-Z-]*):sqs:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

/** The destination, or the reason it is not one (a sentence fragment after the value). */
export function parseOnFailure(value: string): OnFailureTarget | { readonly problem: string } {
  const sqs = SQS_ARN.exec(value);
  if (sqs) {
    const fifo = 'is a FIFO queue; Lambda delivers on-failure records to standard queues only';
    if (sqs[4].endsWith('.fifo')) return { problem: fifo };
    return { kind: 'sqs', arn: value, queue: sqs[4], region: sqs[2], account: sqs[3] };
  }
  if (value.startsWith('arn:') && value.includes(':sqs:')) return { problem: 'is not an SQS queue ARN' };
  const s3 = splitS3Url(value);
  if (!s3) return { problem: 'must be an SQS queue ARN or an s3://bucket URL' };
  if (s3.key !== '') {
    return { problem: 'has a key prefix; Lambda writes on-failure records under its own keys in the bucket' };
  }
  const bucketProblem = bucketNameProblem(s3.bucket);
  if (bucketProblem) return { problem: `names a bucket that ${bucketProblem}` };
  return { kind: 's3', arn: `arn:aws:s3:::${s3.bucket}`, bucket: s3.bucket };
}

/** The hint for a bad `trigger.onFailure`. */
export const ON_FAILURE_HINT =
  'e.g. "onFailure": "arn:aws:sqs:eu-west-1:123456789012:asset-classifier-failures" ' +
  'or "onFailure": "s3://my-failures-bucket"';
