/** ARN formats CreateJob checks (patterns from the S3 Control API model) and the small helpers around them. */

/** IAMRoleArn: `arn:<partition>:iam::<12 digits>:role/<path/name>`. */
export const ROLE_ARN = /^arn:[^:]+:iam::\d{12}:role\/.+$/;
/** FunctionArnString: a name, a partial or a full function ARN, optionally with a version or alias. */
export const FUNCTION_ARN = new RegExp(
  [
    String.raw`^(arn:(aws[a-zA-Z-]*)?:lambda:)?`,
    String.raw`([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?`,
    String.raw`(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`,
  ].join(''),
);
/** AccountId: 12 digits. */
export const ACCOUNT_ID = /^\d{12}$/;

/** The partition of an ARN ("aws", "aws-cn", "aws-us-gov"); "aws" when it is not an ARN. */
export function partitionOf(arn: string): string {
  const match = /^arn:([^:]+):/.exec(arn);
  return match ? match[1] : 'aws';
}

/** The parts of a full function ARN. */
export interface FunctionArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
  readonly qualifier: string | null;
}

/** Splits a full function ARN, or returns null. */
export function parseFunctionArn(arn: string): FunctionArnParts | null {
  const match = /^arn:([^:]+):lambda:([^:]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$/.exec(arn);
  if (!match) return null;
  return { partition: match[1], region: match[2], account: match[3], name: match[4], qualifier: match[5] ?? null };
}

/** `arn:<partition>:s3:::<bucket>`, the form CreateJob wants for buckets. */
export const bucketArn = (bucket: string, partition = 'aws') => `arn:${partition}:s3:::${bucket}`;
