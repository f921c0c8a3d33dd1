/** `policy(manifest)`: the least-privilege execution-role policy. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policy } from '../../src/deploy/policy.js';
import { mergeNotifications, triggerConfigurations } from '../../src/deploy/trigger.js';
import type { NotificationConfiguration } from '@aws-sdk/client-s3';
import type { Manifest } from '../../src/types.js';

const manifest = {
  schemaVersion: 1,
  function: { name: 'asset-classifier', role: 'arn:aws:iam::123456789012:role/asset-classifier' },
  region: 'eu-west-1',
  plan: 'sideload-s3',
  artifacts: {
    models: [{ name: 'category', dir: 'models/category', s3: 's3://my-models/category/', files: [] }],
    deps: null,
  },
  runtime: {
    sideload: { s3: 's3://deploy-artifacts/lambda-ml/asset-classifier/deps-abc.zip' },
    results: 's3://my-results/classifications/',
  },
  artifactsBucket: { bucket: 'deploy-artifacts', prefix: 'lambda-ml/' },
  trigger: { bucket: 'dam-assets', prefix: 'images/', suffixes: ['.jpg'] },
} as unknown as Manifest;

test('policy grants exactly the reads, tag writes, result writes and logs the function needs', () => {
  const doc = policy(manifest);
  const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
  assert.deepEqual(bySid.CreateLogGroup.Resource, [
    'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/asset-classifier',
  ]);
  assert.deepEqual(bySid.WriteLogs.Action, ['logs:CreateLogStream', 'logs:PutLogEvents']);
  assert.deepEqual(bySid.ReadModelsAndDeps.Resource, [
    'arn:aws:s3:::deploy-artifacts/lambda-ml/asset-classifier/deps-abc.zip',
    'arn:aws:s3:::my-models/category/*',
  ]);
  assert.deepEqual(bySid.ReadModelsAndDeps.Action, ['s3:GetObject']);
  assert.deepEqual(bySid.TagTriggerObjects.Action, ['s3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging']);
  assert.deepEqual(bySid.TagTriggerObjects.Resource, ['arn:aws:s3:::dam-assets/images/*']);
  assert.deepEqual(bySid.WriteResults.Resource, ['arn:aws:s3:::my-results/classifications/*']);
  assert.ok(!JSON.stringify(doc).includes('"*"'), 'no wildcard resource');
  assert.ok(!doc.Statement.some((s) => s.Action.some((a) => a.endsWith(':*'))), 'no wildcard action');
});

test('mergeNotifications replaces only our entries and reports no change when they are already there', () => {
  const ours = triggerConfigurations(
    { bucket: 'b', prefix: 'images/', suffixes: ['.jpg'] },
    'fn',
    'arn:aws:lambda:r:1:function:fn:live',
  );
  // S3 answers rule names capitalised; the SDK types only list lower case
  const existing = {
    QueueConfigurations: [{ Id: 'q', QueueArn: 'arn:aws:sqs:r:1:q', Events: ['s3:ObjectCreated:*'] }],
    LambdaFunctionConfigurations: [
      {
        ...ours[0],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'Prefix', Value: 'images/' },
              { Name: 'Suffix', Value: '.jpg' },
            ],
          },
        },
      },
    ],
  } as unknown as NotificationConfiguration;
  assert.equal(mergeNotifications(existing, ours, 'fn').changed, false, 'S3 capitalising rule names is not a change');
  const moved = triggerConfigurations(
    { bucket: 'b', prefix: 'photos/', suffixes: ['.jpg'] },
    'fn',
    'arn:aws:lambda:r:1:function:fn:live',
  );
  const { merged, changed } = mergeNotifications(existing, moved, 'fn');
  assert.equal(changed, true);
  assert.equal(merged.QueueConfigurations?.[0].Id, 'q');
  assert.equal(merged.LambdaFunctionConfigurations?.length, 1);
});
