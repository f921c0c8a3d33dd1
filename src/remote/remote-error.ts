/** SDK errors of remote measuring: a missing region is a config fix (exit 2); the rest map as deploy's (exit 3). */
import { toAwsError } from './aws-errors.js';
import type { LambdaMlError } from '../lib/errors.js';
import { isRegionMissing, regionMissingError } from './region.js';

/** Wraps an error of the SDK call described by `context` ("HeadObject s3://…"). */
export function toRemoteError(error: unknown, context: string): LambdaMlError {
  return isRegionMissing(error) ? regionMissingError(context) : toAwsError(error, context);
}
