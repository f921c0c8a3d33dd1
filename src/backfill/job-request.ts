/**
 * The CreateJob request of `lambda-ml backfill` (docs/backfill.md, "The job"): LambdaInvoke on the deployed alias with
 * InvocationSchemaVersion 2.0 and UserArguments, the object list from the manifest generator (prefix/suffix filter)
 * or an uploaded CSV manifest, a CSV completion report in the artifacts bucket. Checked here against CreateJob's own
 * constraints, so a bad value is exit 2 before any AWS call.
 */
import type { CreateJobCommandInput } from '@aws-sdk/client-s3-control';
import { inputError } from '../lib/errors.js';
import { ACCOUNT_ID, bucketArn, FUNCTION_ARN, partitionOf, ROLE_ARN } from './arns.js';
import { MANIFEST_FIELDS, MANIFEST_FORMAT } from './manifest-csv.js';
import { normalizeSuffixes } from './key-filter.js';
import { userArgumentsProblems } from './user-arguments.js';

export const REPORT_FORMAT = 'Report_CSV_20180820';
export const INVOCATION_SCHEMA_VERSION = '2.0';
export const DEFAULT_PRIORITY = 10;
const MAX_PRIORITY = 2_147_483_647;

/** Where the object list comes from. */
export type JobManifestSource =
  { readonly kind: 'generator' } | { readonly kind: 'csv'; readonly objectArn: string; readonly etag: string };

export interface BackfillJobOptions {
  readonly accountId: string;
  readonly functionArn: string; // the alias ARN deploy left
  readonly roleArn: string;
  /** Where the role came from, for error messages: "--role" or "backfill.role". */
  readonly roleSource?: string;
  readonly source: { readonly bucket: string; readonly prefix: string; readonly suffixes: readonly string[] };
  readonly manifest: JobManifestSource;
  readonly report: { readonly bucket: string; readonly prefix: string; readonly scope: 'FailedTasksOnly' | 'AllTasks' };
  readonly clientRequestToken: string;
  readonly userArguments: Readonly<Record<string, string>>;
  /** `--confirm`: the job waits in Suspended until confirmed (UpdateJobStatus Ready). */
  readonly confirm: boolean;
  readonly priority?: number;
  readonly description?: string;
}

const within = (n: number, min: number, max: number) => n >= min && n <= max;

/** What CreateJob would refuse, as [holds, message, hint] rules; the first that fails is thrown (exit 2). */
function validate(o: BackfillJobOptions): void {
  const roleSource = o.roleSource ?? 'the job role';
  const priority = o.priority ?? DEFAULT_PRIORITY;
  const description = o.description ?? 'x';
  const badSuffix = o.source.suffixes.find((suffix) => !within(suffix.length, 1, 1024));
  const argumentProblem = userArgumentsProblems(o.userArguments)[0];
  const rules: [boolean, string, string][] = [
    [
      ACCOUNT_ID.test(o.accountId),
      `account id "${o.accountId}" is not 12 digits`,
      'check the credentials (sts:GetCallerIdentity gives the account)',
    ],
    [
      ROLE_ARN.test(o.roleArn),
      `${roleSource} "${o.roleArn}" is not an IAM role ARN`,
      'use arn:aws:iam::<account>:role/<name>; lambda-ml policy --backfill prints the role to create',
    ],
    [
      o.functionArn.length <= 1024 && FUNCTION_ARN.test(o.functionArn),
      `function ARN "${o.functionArn}" is not one CreateJob accepts`,
      'run lambda-ml deploy first',
    ],
    [
      within(o.clientRequestToken.length, 1, 64),
      'ClientRequestToken must be 1 to 64 characters',
      'this is a bug in lambda-ml',
    ],
    [
      Number.isInteger(priority) && within(priority, 0, MAX_PRIORITY),
      `priority ${priority} is not a whole number from 0 to ${MAX_PRIORITY}`,
      'use e.g. --priority 10',
    ],
    [
      o.source.prefix.length <= 1024,
      `the prefix has ${o.source.prefix.length} characters; S3 keys have at most 1,024`,
      'shorten the prefix',
    ],
    [
      badSuffix === undefined,
      `suffix "${badSuffix?.slice(0, 40)}" must be 1 to 1,024 characters`,
      'use e.g. --suffix .jpg',
    ],
    [argumentProblem === undefined, argumentProblem ?? '', 'this is a bug in lambda-ml'],
    [
      within(o.report.prefix.length, 1, 512),
      `report prefix "${o.report.prefix.slice(0, 40)}" must be 1 to 512 characters`,
      'set artifacts.prefix shorter',
    ],
    [within(description.length, 1, 256), 'the job description must be 1 to 256 characters', 'shorten --description'],
  ];
  const broken = rules.find(([holds]) => !holds);
  if (broken) throw inputError(broken[1], broken[2]);
}

/** A short description of the job, at most 256 characters. */
export function jobDescription(source: BackfillJobOptions['source'], modelsHash: string): string {
  const filter = source.suffixes.length ? ` (${normalizeSuffixes(source.suffixes).join(' ')})` : '';
  return `lambda-ml backfill s3://${source.bucket}/${source.prefix}${filter} models ${modelsHash}`.slice(0, 256);
}

/** Builds the request; throws an input error (exit 2) for anything CreateJob would refuse. */
export function buildCreateJobRequest(o: BackfillJobOptions): CreateJobCommandInput {
  validate(o);
  const partition = partitionOf(o.functionArn);
  const suffixes = normalizeSuffixes(o.source.suffixes);
  const request: CreateJobCommandInput = {
    AccountId: o.accountId,
    ConfirmationRequired: o.confirm,
    ClientRequestToken: o.clientRequestToken,
    Priority: o.priority ?? DEFAULT_PRIORITY,
    RoleArn: o.roleArn,
    Description: o.description ?? `lambda-ml backfill s3://${o.source.bucket}/${o.source.prefix}`.slice(0, 256),
    Operation: {
      LambdaInvoke: {
        FunctionArn: o.functionArn,
        InvocationSchemaVersion: INVOCATION_SCHEMA_VERSION,
        UserArguments: { ...o.userArguments },
      },
    },
    Report: {
      Enabled: true,
      Bucket: bucketArn(o.report.bucket, partition),
      Format: REPORT_FORMAT,
      Prefix: o.report.prefix,
      ReportScope: o.report.scope,
      ExpectedBucketOwner: o.accountId,
    },
  };
  if (o.manifest.kind === 'csv') {
    request.Manifest = {
      Spec: { Format: MANIFEST_FORMAT, Fields: [...MANIFEST_FIELDS] },
      Location: { ObjectArn: o.manifest.objectArn, ETag: o.manifest.etag },
    };
  } else {
    const keyNames: { MatchAnyPrefix?: string[]; MatchAnySuffix?: string[] } = {};
    if (o.source.prefix) keyNames.MatchAnyPrefix = [o.source.prefix];
    if (suffixes.length) keyNames.MatchAnySuffix = suffixes;
    request.ManifestGenerator = {
      S3JobManifestGenerator: {
        ExpectedBucketOwner: o.accountId,
        SourceBucket: bucketArn(o.source.bucket, partition),
        EnableManifestOutput: false,
        ...(Object.keys(keyNames).length ? { Filter: { KeyNameConstraint: keyNames } } : {}),
      },
    };
  }
  return request;
}
