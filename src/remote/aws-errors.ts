/**
 * Maps AWS SDK errors to one clear line + the fix (exit 3). One table, matched by error name, status and AWS's own
 * wording.
 */
import { awsError, LambdaMlError } from '../lib/errors.js';
import { REQUEST_BYTES, UNZIPPED_BYTES } from '../lib/limits.js';
import { creatableLike, findRuntime } from '../runtimes/table.js';

interface SdkErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
}

/** A one-line description and the fix for an SDK error. */
export interface MappedError {
  readonly message: string;
  readonly hint: string | undefined;
}

const THROTTLING = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'SlowDown',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);
const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError']);

/** Name of an SDK error (S3 sometimes only has `Code`). */
export const errorName = (error: unknown): string => {
  const e = error as SdkErrorLike | undefined;
  return e?.name && e.name !== 'Error' ? e.name : (e?.Code ?? e?.code ?? 'Error');
};

/** HTTP status of an SDK error, when it got one. */
export const errorStatus = (error: unknown): number | undefined =>
  (error as SdkErrorLike | undefined)?.$metadata?.httpStatusCode;

/** True for Lambda's "an update is in progress / the function is Pending" 409, which is worth retrying after a wait. */
export function isUpdateInProgress(error: unknown): boolean {
  const message = (error as SdkErrorLike | undefined)?.message ?? '';
  return (
    errorName(error) === 'ResourceConflictException' && /in progress|currently in the following state/i.test(message)
  );
}

/** True when the SDK found no credentials at all (no env keys, profile, SSO, container or instance role). */
export function isMissingCredentials(error: unknown): boolean {
  const name = errorName(error);
  return (
    name === 'CredentialsProviderError' ||
    /Could not load credentials/i.test((error as SdkErrorLike | undefined)?.message ?? '')
  );
}

/** True for "not found" answers (Lambda 404 ResourceNotFoundException, S3 NotFound/NoSuchKey). */
export function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'NoSuchBucket') return false; // a missing bucket is an error, not a missing object
  return (
    name === 'ResourceNotFoundException' || name === 'NotFound' || name === 'NoSuchKey' || errorStatus(error) === 404
  );
}

/** Describes an SDK (or network) error in one line, with how to fix it. */
export function describeAwsError(error: unknown): MappedError {
  const e = (error ?? {}) as SdkErrorLike;
  const name = errorName(error);
  const message = (e.message ?? String(error)).trim();
  const status = errorStatus(error);
  if (isMissingCredentials(error) || /credential/i.test(name)) {
    return {
      message: `no AWS credentials found (${message})`,
      hint:
        'configure credentials: --profile NAME (or AWS_PROFILE), ' +
        'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or `aws sso login`',
    };
  }
  if (
    message.includes(`Request must be smaller than ${REQUEST_BYTES} bytes`) ||
    (status === 413 && /RequestEntityTooLarge|RequestTooLarge/.test(name))
  ) {
    return {
      message: `function.zip is over 50 MiB: deploy through S3 (set artifacts.bucket) [AWS: ${message}]`,
      hint:
        'set artifacts.bucket in lambda-ml.config.json: zips over 52,428,800 bytes ' +
        'are uploaded to S3 and deployed with S3Bucket/S3Key',
    };
  }
  if (
    message.includes(`Unzipped size must be smaller than ${UNZIPPED_BYTES} bytes`) ||
    /Unzipped size must be smaller than/.test(message)
  ) {
    return {
      message: `function + layers are over Lambda's unzipped limit (${message})`,
      hint:
        'run `lambda-ml budget` to see what counts against the 262,144,000 bytes and the ' +
        'plan that fits (sideload deps to /tmp, move models to S3)',
    };
  }
  if (name === 'CodeStorageExceededException') {
    return {
      message: `the account's Lambda code storage is full (${message})`,
      hint:
        'delete old function versions and layer versions (aws lambda delete-function ' +
        '--qualifier N), or ask AWS for a higher code storage quota',
    };
  }
  if (THROTTLING.has(name) || status === 429) {
    const attempts = e.$metadata?.attempts;
    const still = attempts ? ` (still throttled after ${attempts} attempts)` : '';
    return {
      message: `AWS throttled the request${still}: ${message}`,
      hint: 'wait and run again, or raise the SDK retries with AWS_MAX_ATTEMPTS=10',
    };
  }
  if (
    new RegExp(
      [
        String.raw`AccessDenied|Forbidden|UnauthorizedOperation|InvalidAccessKeyId|`,
        String.raw`SignatureDoesNotMatch|ExpiredToken|UnrecognizedClient`,
      ].join(''),
    ).test(name) ||
    status === 403
  ) {
    return {
      message: `access denied (${name}): ${message}`,
      hint:
        'give the deploying identity the lambda:* and s3:* permissions deploy uses ' +
        '(see docs), or use --profile for another identity',
    };
  }
  if (name === 'ResourceNotFoundException' || name === 'NoSuchBucket' || name === 'NoSuchKey' || name === 'NotFound') {
    return {
      message: `not found (${name}): ${message}`,
      hint: 'check the names in lambda-ml.config.json (function, layer ARNs, buckets) and the region (--region)',
    };
  }
  const retired = /The runtime parameter of (\S+) is no longer supported/.exec(message);
  if (retired) {
    const supported = creatableLike(findRuntime(retired[1]))
      .map((r) => r.id)
      .join(', ');
    return {
      message: `AWS no longer accepts runtime ${retired[1]} (${message})`,
      hint: `set function.runtime to a supported runtime: ${supported}`,
    };
  }
  if (name === 'InvalidParameterValueException' || name === 'ValidationException') {
    return {
      message: `AWS rejected a parameter (${name}): ${message}`,
      hint: 'check function.role, layers, memoryMb, timeoutS and ephemeralStorageMb in lambda-ml.config.json',
    };
  }
  const code =
    (error as { code?: string } | undefined)?.code ?? (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  if ((code && NETWORK.has(code)) || NETWORK.has(name)) {
    return {
      message: `cannot reach AWS (${code ?? name}): ${message}`,
      hint: 'check the network, --region and --endpoint-url',
    };
  }
  return { message: `${name}${status ? ` (HTTP ${status})` : ''}: ${message}`, hint: undefined };
}

/** Wraps an SDK error into a LambdaMlError (exit 3); LambdaMlErrors pass through. */
export function toAwsError(error: unknown, context?: string): LambdaMlError {
  if (error instanceof LambdaMlError) return error;
  const { message, hint } = describeAwsError(error);
  return awsError(context ? `${context}: ${message}` : message, hint, error);
}
