/** The CreateJob request: its shape for the manifest generator and for a CSV manifest, and what it refuses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCreateJobRequest, jobDescription, type BackfillJobOptions } from '../../src/backfill/job-request.js';
import { backfillUserArguments, userArgumentsProblems } from '../../src/backfill/user-arguments.js';
import { parseFunctionArn, partitionOf } from '../../src/backfill/arns.js';
import { LambdaMlError } from '../../src/lib/errors.js';

const OPTIONS: BackfillJobOptions = {
  accountId: '123456789012',
  functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:asset-classifier:live',
  roleArn: 'arn:aws:iam::123456789012:role/lambda-ml-backfill',
  roleSource: 'backfill.role',
  source: { bucket: 'photos', prefix: 'shop/', suffixes: ['.png', '.jpg'] },
  manifest: { kind: 'generator' },
  report: { bucket: 'artifacts', prefix: 'lambda-ml/backfill/reports', scope: 'FailedTasksOnly' },
  clientRequestToken: 'a'.repeat(64),
  userArguments: backfillUserArguments({ reclassify: 'stale', modelsHash: 'abc123' }),
  confirm: false,
};

test('generator job: LambdaInvoke 2.0 on the alias with UserArguments, the filter, a failed-tasks report', () => {
  const request = buildCreateJobRequest(OPTIONS);
  assert.deepEqual(request, {
    AccountId: '123456789012',
    ConfirmationRequired: false,
    ClientRequestToken: 'a'.repeat(64),
    Priority: 10,
    RoleArn: 'arn:aws:iam::123456789012:role/lambda-ml-backfill',
    Description: 'lambda-ml backfill s3://photos/shop/',
    Operation: {
      LambdaInvoke: {
        FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:asset-classifier:live',
        InvocationSchemaVersion: '2.0',
        UserArguments: { 'lambda-ml': '1', reclassify: 'stale', models: 'abc123' },
      },
    },
    Report: {
      Enabled: true,
      Bucket: 'arn:aws:s3:::artifacts',
      Format: 'Report_CSV_20180820',
      Prefix: 'lambda-ml/backfill/reports',
      ReportScope: 'FailedTasksOnly',
      ExpectedBucketOwner: '123456789012',
    },
    ManifestGenerator: {
      S3JobManifestGenerator: {
        ExpectedBucketOwner: '123456789012',
        SourceBucket: 'arn:aws:s3:::photos',
        EnableManifestOutput: false,
        Filter: { KeyNameConstraint: { MatchAnyPrefix: ['shop/'], MatchAnySuffix: ['.jpg', '.png'] } },
      },
    },
  });
});

test('CSV job: a Manifest with Bucket,Key fields and the ETag; no filter for the whole bucket; --confirm', () => {
  const csv = buildCreateJobRequest({
    ...OPTIONS,
    manifest: { kind: 'csv', objectArn: 'arn:aws:s3:::artifacts/m.csv', etag: 'e1' },
    confirm: true,
  });
  assert.deepEqual(csv.Manifest, {
    Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
    Location: { ObjectArn: 'arn:aws:s3:::artifacts/m.csv', ETag: 'e1' },
  });
  assert.equal(csv.ManifestGenerator, undefined);
  assert.equal(csv.ConfirmationRequired, true);
  const whole = buildCreateJobRequest({ ...OPTIONS, source: { bucket: 'photos', prefix: '', suffixes: [] } });
  assert.deepEqual(whole.ManifestGenerator?.S3JobManifestGenerator, {
    ExpectedBucketOwner: '123456789012',
    SourceBucket: 'arn:aws:s3:::photos',
    EnableManifestOutput: false,
  });
  const china = buildCreateJobRequest({
    ...OPTIONS,
    functionArn: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:f:live',
  });
  assert.equal(china.Report?.Bucket, 'arn:aws-cn:s3:::artifacts');
});

test('what CreateJob would refuse is exit 2 before any call, naming the value and its source (cases as data)', () => {
  const rows: [string, Partial<BackfillJobOptions>, RegExp][] = [
    [
      'role not an ARN',
      { roleArn: 'lambda-ml-backfill' },
      /^backfill\.role "lambda-ml-backfill" is not an IAM role ARN$/,
    ],
    ['role of a user', { roleArn: 'arn:aws:iam::123456789012:user/bob' }, /is not an IAM role ARN/],
    ['short account', { accountId: '1234' }, /account id "1234" is not 12 digits/],
    [
      'function',
      { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bad name' },
      /function ARN .* is not one CreateJob accepts/,
    ],
    ['priority', { priority: -1 }, /priority -1 is not a whole number from 0 to 2147483647/],
    [
      'empty suffix',
      { source: { bucket: 'b', prefix: '', suffixes: [''] } },
      /suffix "" must be 1 to 1,024 characters/,
    ],
    [
      '11 arguments',
      { userArguments: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) },
      /11 entries; at most 10/,
    ],
    [
      'report prefix',
      { report: { bucket: 'a', prefix: 'p'.repeat(513), scope: 'AllTasks' } },
      /report prefix .* must be 1 to 512 characters/,
    ],
    ['description', { description: 'd'.repeat(257) }, /description must be 1 to 256/],
  ];
  for (const [name, change, message] of rows) {
    assert.throws(
      () => buildCreateJobRequest({ ...OPTIONS, ...change }),
      (error: LambdaMlError) => {
        assert.equal(error.code, 'input', name);
        assert.match(error.message, message, name);
        assert.ok(error.hint, name);
        return true;
      },
      name,
    );
  }
});

test('UserArguments limits: 1 to 10 entries, keys 1 to 64, values up to 1,024', () => {
  assert.deepEqual(userArgumentsProblems(backfillUserArguments({ reclassify: 'all', modelsHash: 'x' })), []);
  assert.deepEqual(userArgumentsProblems({ ['k'.repeat(64)]: 'v'.repeat(1024) }), []);
  assert.match(userArgumentsProblems({})[0], /at least 1 entry/);
  assert.match(userArgumentsProblems({ ['k'.repeat(65)]: 'v' })[0], /1 to 64 characters \(has 65\)/);
  assert.match(userArgumentsProblems({ k: 'v'.repeat(1025) })[0], /1025 characters; at most 1024/);
});

test('ARN helpers and the description', () => {
  assert.deepEqual(parseFunctionArn(OPTIONS.functionArn), {
    partition: 'aws',
    region: 'us-east-1',
    account: '123456789012',
    name: 'asset-classifier',
    qualifier: 'live',
  });
  assert.equal(parseFunctionArn('asset-classifier'), null);
  assert.equal(partitionOf('arn:aws-us-gov:iam::1:role/x'), 'aws-us-gov');
  assert.equal(
    jobDescription({ bucket: 'b', prefix: 'p/', suffixes: ['.png', '.jpg'] }, 'abc'),
    'lambda-ml backfill s3://b/p/ (.jpg .png) models abc',
  );
  assert.equal(jobDescription({ bucket: 'b', prefix: 'x'.repeat(300), suffixes: [] }, 'abc').length, 256);
});
