/**
 * `lambda-ml policy --backfill` (docs/backfill.md, "The role"): the job role's trust policy, its permissions, and
 * what the caller of `backfill` needs. Pure: the CLI prints these documents.
 *
 * The role only lists the source bucket (manifest generator) or reads the manifest, invokes the alias and writes the
 * report: S3 Batch Operations never reads the objects for LambdaInvoke; the function's own role reads and tags them
 * (`lambda-ml policy`).
 */
import { bucketArn } from './arns.js';
import { joinKey } from '../lib/s3-url.js';

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: { readonly Service: string };
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export const BATCH_OPERATIONS_PRINCIPAL = 'batchoperations.s3.amazonaws.com';

export interface BackfillPolicyInputs {
  readonly partition?: string; // "aws" unless the function lives elsewhere
  readonly region: string;
  readonly accountId: string;
  readonly functionArn: string; // the alias ARN the job invokes
  readonly sourceBucket: string;
  readonly artifactsBucket: string;
  readonly artifactsPrefix: string; // artifacts.prefix; manifests and reports live under <prefix>/backfill/
  /** The role's ARN when known (config backfill.role or --role), else a placeholder the user fills in. */
  readonly roleArn?: string | null;
  readonly roleName?: string;
}

const doc = (statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

/** The prefixes under the artifacts bucket: manifests (read by the job) and reports (written by it). */
export function backfillPrefixes(artifactsPrefix: string): { manifests: string; reports: string } {
  return {
    manifests: joinKey(artifactsPrefix, 'backfill/manifests/'),
    reports: joinKey(artifactsPrefix, 'backfill/reports'),
  };
}

/** Who may assume the job role: S3 Batch Operations. */
export function backfillTrustPolicy(): PolicyDocument {
  return doc([
    {
      Sid: 'BatchOperationsAssumesRole',
      Effect: 'Allow',
      Principal: { Service: BATCH_OPERATIONS_PRINCIPAL },
      Action: 'sts:AssumeRole',
    },
  ]);
}

/** The job role's permissions: list the source, read the manifest, write the report, invoke the alias. */
export function backfillRolePolicy(inputs: BackfillPolicyInputs): PolicyDocument {
  const p = inputs.partition ?? 'aws';
  const artifacts = bucketArn(inputs.artifactsBucket, p);
  const { manifests, reports } = backfillPrefixes(inputs.artifactsPrefix);
  return doc([
    { Sid: 'InvokeTheAlias', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: inputs.functionArn },
    {
      Sid: 'GenerateTheObjectList',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation'],
      Resource: bucketArn(inputs.sourceBucket, p),
    },
    {
      Sid: 'ReadTheManifest',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: `${artifacts}/${manifests}*`,
    },
    {
      Sid: 'WriteTheReport',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetBucketLocation'],
      Resource: [artifacts, `${artifacts}/${reports}/*`],
    },
  ]);
}

/** The role ARN to show: the configured one, else `arn:aws:iam::<account>:role/<name>` for the role to create. */
export function backfillRoleArn(inputs: BackfillPolicyInputs): string {
  const name = inputs.roleName ?? 'lambda-ml-backfill';
  return inputs.roleArn ?? `arn:${inputs.partition ?? 'aws'}:iam::${inputs.accountId}:role/${name}`;
}

/** What the caller of `lambda-ml backfill` needs: create and follow jobs, pass the role, list and read S3. */
export function backfillCallerPolicy(inputs: BackfillPolicyInputs): PolicyDocument {
  const p = inputs.partition ?? 'aws';
  const artifacts = bucketArn(inputs.artifactsBucket, p);
  const { manifests, reports } = backfillPrefixes(inputs.artifactsPrefix);
  const functionName = /:function:([^:]+)/.exec(inputs.functionArn)?.[1] ?? '*';
  return doc([
    // CreateJob takes no resource-level permission; DescribeJob and UpdateJobStatus act on job ARNs.
    { Sid: 'CreateJobs', Effect: 'Allow', Action: ['s3:CreateJob', 's3:ListJobs'], Resource: '*' },
    {
      Sid: 'FollowJobs',
      Effect: 'Allow',
      Action: ['s3:DescribeJob', 's3:UpdateJobStatus'],
      Resource: `arn:${p}:s3:${inputs.region}:${inputs.accountId}:job/*`,
    },
    {
      Sid: 'PassTheJobRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: backfillRoleArn(inputs),
      Condition: { StringEquals: { 'iam:PassedToService': BATCH_OPERATIONS_PRINCIPAL } },
    },
    {
      Sid: 'ResolveTheAlias',
      Effect: 'Allow',
      Action: ['lambda:GetAlias', 'lambda:GetFunctionConcurrency', 'lambda:PutFunctionConcurrency'],
      Resource: [`arn:${p}:lambda:${inputs.region}:${inputs.accountId}:function:${functionName}`, inputs.functionArn],
    },
    {
      Sid: 'CountAndListObjects',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: [bucketArn(inputs.sourceBucket, p), artifacts],
    },
    { Sid: 'WriteManifests', Effect: 'Allow', Action: 's3:PutObject', Resource: `${artifacts}/${manifests}*` },
    { Sid: 'ReadReports', Effect: 'Allow', Action: 's3:GetObject', Resource: `${artifacts}/${reports}/*` },
  ]);
}

/** The text `lambda-ml policy --backfill` prints: three titled JSON documents. */
export function renderBackfillPolicies(inputs: BackfillPolicyInputs): string {
  const roleArn = backfillRoleArn(inputs);
  const json = (d: PolicyDocument) => JSON.stringify(d, null, 2);
  return [
    `# Job role ${roleArn}: trust policy (who may assume it)`,
    json(backfillTrustPolicy()),
    '',
    '# Job role: permissions (list the source, read the manifest, write the report, invoke the alias)',
    json(backfillRolePolicy(inputs)),
    '',
    '# The caller of lambda-ml backfill (s3:CreateJob, iam:PassRole on the role, S3 listing and the report)',
    json(backfillCallerPolicy(inputs)),
    '',
  ].join('\n');
}
