/** `lambda-ml policy --backfill`: the job role's trust and permissions, and what the caller needs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backfillCallerPolicy,
  backfillPrefixes,
  backfillRoleArn,
  backfillRolePolicy,
  backfillTrustPolicy,
  renderBackfillPolicies,
  type BackfillPolicyInputs,
  type PolicyDocument,
} from '../../src/backfill/policy.js';

const INPUTS: BackfillPolicyInputs = {
  region: 'us-east-1',
  accountId: '123456789012',
  functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:asset-classifier:live',
  sourceBucket: 'photos',
  artifactsBucket: 'photos-artifacts',
  artifactsPrefix: 'lambda-ml/',
};

const statement = (doc: PolicyDocument, sid: string) => {
  const found = doc.Statement.find((s) => s.Sid === sid);
  assert.ok(found, `statement ${sid}`);
  return found;
};

test('trust: only S3 Batch Operations may assume the role', () => {
  assert.deepEqual(backfillTrustPolicy(), {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BatchOperationsAssumesRole',
        Effect: 'Allow',
        Principal: { Service: 'batchoperations.s3.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    ],
  });
});

test('role: invoke the alias, list the source, read the manifests, write the reports (no object access)', () => {
  const role = backfillRolePolicy(INPUTS);
  assert.deepEqual(statement(role, 'InvokeTheAlias'), {
    Sid: 'InvokeTheAlias',
    Effect: 'Allow',
    Action: 'lambda:InvokeFunction',
    Resource: INPUTS.functionArn,
  });
  assert.deepEqual(statement(role, 'GenerateTheObjectList').Resource, 'arn:aws:s3:::photos');
  assert.deepEqual(
    statement(role, 'ReadTheManifest').Resource,
    'arn:aws:s3:::photos-artifacts/lambda-ml/backfill/manifests/*',
  );
  assert.deepEqual(statement(role, 'WriteTheReport').Resource, [
    'arn:aws:s3:::photos-artifacts',
    'arn:aws:s3:::photos-artifacts/lambda-ml/backfill/reports/*',
  ]);
  const actions = role.Statement.flatMap((s) => [s.Action].flat());
  assert.ok(
    !actions.includes('s3:PutObjectTagging') && !actions.some((a) => a === 's3:*' || a === '*'),
    'the function tags, not the job',
  );
  assert.deepEqual(backfillPrefixes(''), { manifests: 'backfill/manifests/', reports: 'backfill/reports' });
});

test('caller: s3:CreateJob, iam:PassRole on the role for Batch Operations only, and the S3 reads and writes', () => {
  const caller = backfillCallerPolicy({ ...INPUTS, roleArn: 'arn:aws:iam::123456789012:role/my-backfill' });
  assert.deepEqual(statement(caller, 'CreateJobs').Action, ['s3:CreateJob', 's3:ListJobs']);
  assert.equal(statement(caller, 'FollowJobs').Resource, 'arn:aws:s3:us-east-1:123456789012:job/*');
  assert.deepEqual(statement(caller, 'PassTheJobRole'), {
    Sid: 'PassTheJobRole',
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: 'arn:aws:iam::123456789012:role/my-backfill',
    Condition: { StringEquals: { 'iam:PassedToService': 'batchoperations.s3.amazonaws.com' } },
  });
  assert.deepEqual(statement(caller, 'ResolveTheAlias').Resource, [
    'arn:aws:lambda:us-east-1:123456789012:function:asset-classifier',
    INPUTS.functionArn,
  ]);
  assert.equal(statement(caller, 'ReadReports').Resource, 'arn:aws:s3:::photos-artifacts/lambda-ml/backfill/reports/*');
  assert.equal(
    backfillRoleArn(INPUTS),
    'arn:aws:iam::123456789012:role/lambda-ml-backfill',
    'the role to create when none is configured',
  );
});

test('the printed text: three titled documents, each valid JSON', () => {
  const text = renderBackfillPolicies(INPUTS);
  const titles = text.split('\n').filter((l) => l.startsWith('# '));
  assert.equal(titles.length, 3);
  assert.match(titles[0], /trust policy/);
  assert.match(titles[2], /s3:CreateJob, iam:PassRole/);
  const docs = text
    .split(/^# .*$/m)
    .slice(1)
    .map((chunk) => JSON.parse(chunk));
  assert.deepEqual(docs[0], backfillTrustPolicy());
  assert.deepEqual(docs[1], JSON.parse(JSON.stringify(backfillRolePolicy(INPUTS))));
});
