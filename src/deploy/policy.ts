/** `lambda-ml policy`: the least-privilege IAM policy the function's execution role needs. */
import type { Config, Manifest } from '../types.js';
import { parseOnFailure } from '../config/on-failure.js';
import { joinKey, parseS3Url } from '../lib/s3-url.js';

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export interface IamPolicy {
  readonly Version: '2012-10-17';
  readonly Statement: readonly IamStatement[];
}

/** arn:aws:s3:::bucket/prefix* for an s3:// location (a key that is not a prefix is granted exactly). */
function objectArn(url: string): string {
  const { bucket, key } = parseS3Url(url);
  return key === '' || key.endsWith('/') ? `arn:aws:s3:::${bucket}/${key}*` : `arn:aws:s3:::${bucket}/${key}`;
}

const accountOf = (arn: string | null) => /^arn:aws[a-zA-Z-]*:iam::(\d{12}):/.exec(arn ?? '')?.[1] ?? '*';

/** The execution role's policy for a manifest (after `package`) or a config (before it). */
export function policy(input: Manifest | Config): IamPolicy {
  const isManifest = 'schemaVersion' in input;
  const fn = input.function;
  const region = input.region ?? '*';
  const account = accountOf(fn.role);
  const logGroup = `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${fn.name}`;
  const statements: IamStatement[] = [
    { Sid: 'CreateLogGroup', Effect: 'Allow', Action: ['logs:CreateLogGroup'], Resource: [logGroup] },
    {
      Sid: 'WriteLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [`${logGroup}:*`],
    },
  ];
  const reads = new Set<string>();
  if (isManifest) {
    for (const model of input.artifacts.models) if (model.s3) reads.add(objectArn(model.s3));
    const deps = input.runtime.sideload?.s3 ?? input.artifacts.deps?.s3 ?? null;
    if (deps) reads.add(objectArn(deps));
    else if (input.plan === 'sideload-s3' && input.artifactsBucket.bucket) {
      reads.add(
        objectArn(`s3://${input.artifactsBucket.bucket}/${joinKey(input.artifactsBucket.prefix, `${fn.name}/`)}`),
      );
    }
  } else {
    for (const model of input.models) if (model.s3 && !model.bundle) reads.add(objectArn(model.s3));
    // before `package`, the deps.zip key is not known yet: it lives under the function's artifacts prefix when
    // sideloaded from S3
    if (input.artifacts.bucket && input.plan !== 'bundle' && input.plan !== 'sideload-bundled') {
      reads.add(objectArn(`s3://${input.artifacts.bucket}/${joinKey(input.artifacts.prefix, `${fn.name}/`)}`));
    }
  }
  if (reads.size > 0)
    statements.push({
      Sid: 'ReadModelsAndDeps',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: [...reads].sort(),
    });
  if (input.trigger) {
    statements.push({
      Sid: 'TagTriggerObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging'],
      Resource: [`arn:aws:s3:::${input.trigger.bucket}/${input.trigger.prefix}*`],
    });
  }
  const onFailure = input.trigger?.onFailure ? parseOnFailure(input.trigger.onFailure) : null;
  if (onFailure && !('problem' in onFailure)) {
    // Lambda sends the record of a failed asynchronous invocation with the function's own role (docs/deploy.md)
    statements.push(
      onFailure.kind === 'sqs'
        ? { Sid: 'SendFailedEvents', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [onFailure.arn] }
        : // an S3 destination needs s3:PutObject on its objects and s3:ListBucket on the bucket
          {
            Sid: 'WriteFailedEvents',
            Effect: 'Allow',
            Action: ['s3:ListBucket', 's3:PutObject'],
            Resource: [onFailure.arn, `${onFailure.arn}/*`],
          },
    );
  }
  const results = isManifest ? input.runtime.results : input.results;
  if (results)
    statements.push({ Sid: 'WriteResults', Effect: 'Allow', Action: ['s3:PutObject'], Resource: [objectArn(results)] });
  return { Version: '2012-10-17', Statement: statements };
}
