/**
 * The backfill job API with the real @aws-sdk/client-s3-control (through src/backfill/s3control-client.ts, whose
 * endpoint rules send `<account>.localhost`) against the loopback S3 Control server, and s3rver for the source
 * bucket, the CSV manifest and the completion report.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateJobCommand, ListJobsCommand, type CreateJobCommandInput } from '@aws-sdk/client-s3-control';
import {
  createBackfillJob,
  describeBackfillJob,
  listBackfillJobs,
  updateBackfillJobStatus,
} from '../../src/backfill/job-api.js';
import { buildCreateJobRequest, type BackfillJobOptions } from '../../src/backfill/job-request.js';
import { backfillPrefixes } from '../../src/backfill/policy.js';
import { manifestKey, uploadManifest, writeManifestFile } from '../../src/backfill/manifest-write.js';
import { listBackfillObjects } from '../../src/backfill/manifest-list.js';
import { readCompletionReport } from '../../src/backfill/report-read.js';
import { groupFailures } from '../../src/backfill/failures.js';
import { backfillToken } from '../../src/backfill/request-token.js';
import { waitExitCode, waitForJob } from '../../src/backfill/wait.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { startS3, type S3Server } from '../helpers/s3rver.js';
import {
  startS3ControlServer,
  userArgumentsOf,
  type DecideTask,
  type S3ControlServer,
} from '../helpers/s3control-server.js';

const ACCOUNT = '123456789012';
const SOURCE = 'photos-source';
const ARTIFACTS = 'photos-artifacts';
const FUNCTION = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:asset-classifier:live`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-ml-backfill`;
const KEYS = [
  'shop/a.jpg',
  'shop/b.png',
  'shop/bad.jpg',
  'shop/flaky one.jpg',
  'shop/notes.txt',
  'shop/sub/c+d é.jpg',
  'other/x.jpg',
];

let s3: S3Server;
let control: S3ControlServer;

before(async () => {
  s3 = await startS3();
  for (const bucket of [SOURCE, ARTIFACTS]) await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of KEYS)
    await s3.client.send(new PutObjectCommand({ Bucket: SOURCE, Key: key, Body: `bytes of ${key}` }));
  control = await startS3ControlServer({ accountId: ACCOUNT, s3: s3.client });
});
after(async () => {
  await control?.stop();
  await s3?.stop();
});

const decide: DecideTask = (task, attempt) => {
  if (task.key.includes('bad'))
    return {
      code: 'PermanentFailure',
      message: 'failed (decode): Input buffer contains unsupported image format',
    };
  if (task.key.includes('flaky') && attempt === 1)
    return {
      code: 'TemporaryFailure',
      message: 'failed (SlowDown): Please reduce your request rate.',
    };
  return { code: 'Succeeded', message: `tagged: ml:category=${task.key}` };
};

function options(over: Partial<BackfillJobOptions> = {}): BackfillJobOptions {
  const source = { bucket: SOURCE, prefix: 'shop/', suffixes: ['.jpg', '.png'] };
  const userArguments = { 'lambda-ml': '1', reclassify: 'stale', models: 'abc123' };
  return {
    accountId: ACCOUNT,
    functionArn: FUNCTION,
    roleArn: ROLE,
    roleSource: '--role',
    source,
    manifest: {
      kind: 'generator',
    },
    report: { bucket: ARTIFACTS, prefix: backfillPrefixes('lambda-ml/').reports, scope: 'FailedTasksOnly' },
    clientRequestToken: backfillToken({ ...source, functionVersion: '3', modelSha256: ['aa'], userArguments }),
    userArguments,
    confirm: false,
    ...over,
  };
}

test('CreateJob: the generator job is accepted, DescribeJob echoes it, the same token gives the same job', async () => {
  const client = control.client();
  const request = buildCreateJobRequest(options());
  const jobId = await createBackfillJob(client, request);
  assert.match(jobId, /^[0-9a-f-]{36}$/);
  assert.equal(await createBackfillJob(client, request), jobId, 'a retried command gets the same job');
  const job = control.job(jobId)!;
  assert.deepEqual(userArgumentsOf(job.request), { 'lambda-ml': '1', reclassify: 'stale', models: 'abc123' });
  const snapshot = await describeBackfillJob({ client, accountId: ACCOUNT }, jobId);
  assert.equal(snapshot.status, 'New');
  assert.equal(snapshot.total, null);
  assert.deepEqual(snapshot.report, {
    bucket: ARTIFACTS,
    prefix: 'lambda-ml/backfill/reports',
    scope: 'FailedTasksOnly',
  });
  const calls = control.calls.filter((c) => c.op === 'CreateJob');
  assert.ok(calls.every((c) => c.accountId === ACCOUNT && c.status === 200));
});

test('CreateJob: the same token with another request is IdempotencyException, one line (exit 3)', async () => {
  const client = control.client();
  const base = options({ clientRequestToken: 'token-reused' });
  await createBackfillJob(client, buildCreateJobRequest(base));
  const again = createBackfillJob(client, buildCreateJobRequest({ ...base, priority: 99 }));
  await assert.rejects(again, (error: LambdaMlError) => {
    assert.equal(error.code, 'aws');
    assert.match(
      error.message,
      /^S3 Batch Operations CreateJob \(creating the job\) failed: IdempotencyException \(HTTP 400\)/,
    );
    assert.match(error.hint ?? '', /already created with this token/);
    return true;
  });
});

type Mutate = (r: any) => void;
const CASES: { name: string; mutate: Mutate; error: string; message: RegExp }[] = [
  {
    name: 'role ARN format',
    mutate: (r) => {
      r.RoleArn = 'arn:aws:iam::12345:role/x';
    },
    error: 'InvalidRequest',
    message: /roleArn.*regular expression/,
  },
  {
    name: '11 UserArguments',
    mutate: (r) => {
      r.Operation.LambdaInvoke.UserArguments = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    },
    error: 'InvalidRequest',
    message: /at most 10 entries/,
  },
  {
    name: 'a UserArguments key of 65',
    mutate: (r) => {
      r.Operation.LambdaInvoke.UserArguments = { ['k'.repeat(65)]: 'v' };
    },
    error: 'InvalidRequest',
    message: /length less than or equal to 64/,
  },
  {
    name: 'a UserArguments value of 1,025',
    mutate: (r) => {
      r.Operation.LambdaInvoke.UserArguments = { k: 'v'.repeat(1025) };
    },
    error: 'InvalidRequest',
    message: /length less than or equal to 1024/,
  },
  {
    name: 'UserArguments with schema 1.0',
    mutate: (r) => {
      r.Operation.LambdaInvoke.InvocationSchemaVersion = '1.0';
    },
    error: 'BadRequestException',
    message: /InvocationSchemaVersion 2\.0/,
  },
  {
    name: 'priority below 0',
    mutate: (r) => {
      r.Priority = -1;
    },
    error: 'InvalidRequest',
    message: /greater than or equal to 0/,
  },
  {
    name: 'a 65-character token',
    mutate: (r) => {
      r.ClientRequestToken = 't'.repeat(65);
    },
    error: 'InvalidRequest',
    message: /clientRequestToken/,
  },
  {
    name: 'generator without EnableManifestOutput',
    mutate: (r) => {
      delete r.ManifestGenerator.S3JobManifestGenerator.EnableManifestOutput;
    },
    error: 'InvalidRequest',
    message: /EnableManifestOutput.*must not be null/,
  },
  {
    name: 'generator without SourceBucket',
    mutate: (r) => {
      delete r.ManifestGenerator.S3JobManifestGenerator.SourceBucket;
    },
    error: 'InvalidRequest',
    message: /SourceBucket.*must not be null/,
  },
  {
    name: 'an owner that is not 12 digits',
    mutate: (r) => {
      r.ManifestGenerator.S3JobManifestGenerator.ExpectedBucketOwner = '12345';
    },
    error: 'InvalidRequest',
    message: /ExpectedBucketOwner/,
  },
  {
    name: 'manifest output without a location',
    mutate: (r) => {
      r.ManifestGenerator.S3JobManifestGenerator.EnableManifestOutput = true;
    },
    error: 'BadRequestException',
    message: /ManifestOutputLocation/,
  },
  {
    name: 'an empty suffix',
    mutate: (r) => {
      r.ManifestGenerator.S3JobManifestGenerator.Filter.KeyNameConstraint.MatchAnySuffix = [''];
    },
    error: 'InvalidRequest',
    message: /MatchAnySuffix.*greater than or equal to 1/,
  },
  {
    name: 'both a manifest and a generator',
    mutate: (r) => {
      r.Manifest = {
        Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] },
        Location: { ObjectArn: 'arn:aws:s3:::b/k', ETag: 'e' },
      };
    },
    error: 'BadRequestException',
    message: /Exactly one of Manifest or ManifestGenerator/,
  },
  {
    name: 'no report bucket',
    mutate: (r) => {
      delete r.Report.Bucket;
    },
    error: 'BadRequestException',
    message: /Report requires Bucket/,
  },
  {
    name: 'no report at all',
    mutate: (r) => {
      delete r.Report;
    },
    error: 'InvalidRequest',
    message: /Report.*must not be null/,
  },
  {
    name: 'a bad report scope',
    mutate: (r) => {
      r.Report.ReportScope = 'Everything';
    },
    error: 'InvalidRequest',
    message: /enum value set: \[AllTasks, FailedTasksOnly\]/,
  },
  {
    name: 'another operation',
    mutate: (r) => {
      r.Operation = { S3PutObjectTagging: { TagSet: [] } };
    },
    error: 'NotImplemented',
    message: /LambdaInvoke only/,
  },
];

test('CreateJob refuses what the API refuses (cases as data), with the documented error names', async () => {
  const client = control.client({ maxAttempts: 1 });
  for (const row of CASES) {
    const request = structuredClone(
      buildCreateJobRequest(options({ clientRequestToken: `case-${row.name.replace(/\W+/g, '-')}` })),
    ) as CreateJobCommandInput;
    row.mutate(request);
    await assert.rejects(
      client.send(new CreateJobCommand(request)),
      (error: Error) => {
        assert.equal(error.name, row.error, `${row.name}: ${error.message}`);
        assert.match(error.message, new RegExp(row.message.source, 'i'), row.name);
        return true;
      },
      row.name,
    );
  }
});

test('a job runs through its states: listed with the filter, retried, the report written', async () => {
  const client = control.client();
  const jobId = await createBackfillJob(client, buildCreateJobRequest(options({ clientRequestToken: 'states' })));
  assert.equal(await control.advance(jobId), 'Preparing');
  assert.equal((await describeBackfillJob({ client, accountId: ACCOUNT }, jobId)).status, 'Preparing');
  assert.equal(await control.advance(jobId), 'Ready');
  const ready = await describeBackfillJob({ client, accountId: ACCOUNT }, jobId);
  assert.equal(ready.total, 5, 'shop/ and .jpg/.png: a, b, bad, flaky one, c+d é');
  assert.equal(await control.advance(jobId), 'Active');
  await control.run(jobId, decide, 2);
  const half = await describeBackfillJob({ client, accountId: ACCOUNT }, jobId);
  assert.equal(half.status, 'Active');
  assert.equal(half.succeeded + half.failed, 2);
  await control.run(jobId, decide);
  const done = await describeBackfillJob({ client, accountId: ACCOUNT }, jobId);
  assert.deepEqual([done.status, done.total, done.succeeded, done.failed], ['Complete', 5, 4, 1]);
  const rows = await readCompletionReport(s3.client, { bucket: ARTIFACTS, prefix: done.report!.prefix!, jobId });
  assert.deepEqual(
    rows.map((r) => [r.key, r.taskStatus, r.errorCode, r.httpStatus]),
    [['shop/bad.jpg', 'failed', 'PermanentFailure', 200]],
  );
  assert.deepEqual(
    groupFailures(rows).map((g) => [g.count, g.errorCode, g.reason]),
    [[1, 'PermanentFailure', 'decode']],
  );
  await assert.rejects(
    updateBackfillJobStatus({ client, accountId: ACCOUNT }, jobId, { status: 'Cancelled' }),
    /JobStatusException.*cannot be cancelled/,
  );
});

test('--confirm: the job waits in Suspended until UpdateJobStatus Ready; cancelling ends it', async () => {
  const client = control.client();
  const jobId = await createBackfillJob(
    client,
    buildCreateJobRequest(options({ clientRequestToken: 'confirm', confirm: true })),
  );
  await control.advance(jobId);
  await control.advance(jobId);
  const suspended = await describeBackfillJob({ client, accountId: ACCOUNT }, jobId);
  assert.equal(suspended.status, 'Suspended');
  assert.equal(suspended.suspendedCause, 'ConfirmationRequired');
  assert.equal(
    await updateBackfillJobStatus({ client, accountId: ACCOUNT }, jobId, {
      status: 'Ready',
      reason: 'confirmed by lambda-ml',
    }),
    'Ready',
  );
  await assert.rejects(
    updateBackfillJobStatus({ client, accountId: ACCOUNT }, jobId, { status: 'Ready' }),
    (error: LambdaMlError) => /JobStatusException/.test(error.message) && /not in a state/.test(error.hint ?? ''),
  );
  assert.equal(
    await updateBackfillJobStatus({ client, accountId: ACCOUNT }, jobId, { status: 'Cancelled', reason: 'not today' }),
    'Cancelled',
  );
  const cancelled = await describeBackfillJob({ client, accountId: ACCOUNT }, jobId);
  assert.equal(cancelled.statusUpdateReason, 'not today');
});

test('DescribeJob of an unknown job is NotFoundException; a malformed id is BadRequestException', async () => {
  const client = control.client();
  const unknown = describeBackfillJob({ client, accountId: ACCOUNT }, '00000000-0000-0000-0000-000000000000');
  await assert.rejects(unknown, (error: LambdaMlError) => {
    assert.match(error.message, /DescribeJob \(reading job 0+-0+-0+-0+-0+\) failed: NotFoundException \(HTTP 404\): /);
    assert.match(error.message, /The specified job does not exist$/);
    assert.match(error.hint ?? '', /90 days/);
    return true;
  });
  await assert.rejects(describeBackfillJob({ client, accountId: ACCOUNT }, 'x'), /BadRequestException.*JobId|jobId/);
});

test('ListJobs: status filter, pages of MaxResults with NextToken, and its documented errors', async () => {
  const client = control.client({ maxAttempts: 1 });
  const all = await listBackfillJobs({ client, accountId: ACCOUNT });
  assert.ok(all.length >= 4);
  const cancelled = await listBackfillJobs({ client, accountId: ACCOUNT }, ['Cancelled']);
  assert.ok(cancelled.length >= 1 && cancelled.every((j) => j.status === 'Cancelled'));
  const first = await client.send(new ListJobsCommand({ AccountId: ACCOUNT, MaxResults: 1 }));
  assert.equal(first.Jobs?.length, 1);
  assert.ok(first.NextToken);
  const second = await client.send(
    new ListJobsCommand({ AccountId: ACCOUNT, MaxResults: 1, NextToken: first.NextToken }),
  );
  assert.notEqual(second.Jobs?.[0].JobId, first.Jobs?.[0].JobId);
  await assert.rejects(client.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Sleeping' as never] })), {
    name: 'InvalidRequestException',
  });
  await assert.rejects(client.send(new ListJobsCommand({ AccountId: ACCOUNT, NextToken: 'bm9wZQ==' })), {
    name: 'InvalidNextTokenException',
  });
});

test('--wait: DescribeJob polled until Complete, counters only grow, exit 1 when a task failed', async () => {
  const auto = await startS3ControlServer({ accountId: ACCOUNT, s3: s3.client, autoRun: { decide, tasksPerPoll: 2 } });
  try {
    const client = auto.client();
    const jobId = await createBackfillJob(client, buildCreateJobRequest(options({ clientRequestToken: 'wait' })));
    const seen: { status: string; done: number }[] = [];
    const final = await waitForJob({
      describe: () => describeBackfillJob({ client, accountId: ACCOUNT }, jobId),
      onUpdate: (s) => seen.push({ status: s.status, done: s.succeeded + s.failed }),
      sleep: async () => {},
    });
    assert.equal(final.status, 'Complete');
    assert.deepEqual([...new Set(seen.map((s) => s.status))], ['Preparing', 'Ready', 'Active', 'Complete']);
    assert.ok(seen.every((s, i) => i === 0 || s.done >= seen[i - 1].done));
    assert.equal(waitExitCode(final), 1);
  } finally {
    await auto.stop();
  }
});

test('throttling: TooManyRequestsException is retried by the SDK; persistent, it is one line (exit 3)', async () => {
  const client = control.client();
  control.failNext('DescribeJob', { status: 429, code: 'TooManyRequestsException', message: 'Please slow down' }, 1);
  const jobId = await createBackfillJob(client, buildCreateJobRequest(options({ clientRequestToken: 'throttle' })));
  assert.equal((await describeBackfillJob({ client, accountId: ACCOUNT }, jobId)).status, 'New');
  const once = control.client({ maxAttempts: 1 });
  control.failNext('DescribeJob', { status: 429, code: 'TooManyRequestsException', message: 'Please slow down' }, 1);
  await assert.rejects(
    describeBackfillJob({ client: once, accountId: ACCOUNT }, jobId),
    (error: LambdaMlError) =>
      error.code === 'aws' && /TooManyRequestsException/.test(error.message) && /throttling/.test(error.hint ?? ''),
  );
});

test('--manifest csv: written, uploaded, its keys decoded to the real ones; a stale ETag fails the job', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-backfill-csv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = await writeManifestFile(
    join(dir, 'manifest.csv'),
    listBackfillObjects(s3.client, { bucket: SOURCE, prefix: 'shop/', suffixes: ['.jpg'] }),
  );
  assert.equal(file.objects, 4);
  const uploaded = await uploadManifest(s3.client, file, {
    bucket: ARTIFACTS,
    key: manifestKey('lambda-ml/', file.sha256),
  });
  const client = control.client();
  const jobId = await createBackfillJob(
    client,
    buildCreateJobRequest(
      options({
        clientRequestToken: 'csv',
        manifest: { kind: 'csv', objectArn: uploaded.objectArn, etag: uploaded.etag },
        report: { bucket: ARTIFACTS, prefix: 'lambda-ml/backfill/reports', scope: 'AllTasks' },
      }),
    ),
  );
  const job = await control.run(jobId, decide);
  assert.deepEqual(job.tasks!.map((task) => task.key).sort(), [
    'shop/a.jpg',
    'shop/bad.jpg',
    'shop/flaky one.jpg',
    'shop/sub/c+d é.jpg',
  ]);
  const rows = await readCompletionReport(s3.client, {
    bucket: ARTIFACTS,
    prefix: 'lambda-ml/backfill/reports',
    jobId,
  });
  assert.equal(rows.length, 4, 'AllTasks: succeeded rows too');
  assert.ok(rows.some((r) => r.key === 'shop/sub/c+d é.jpg' && r.taskStatus === 'succeeded'));

  const stale = await createBackfillJob(
    client,
    buildCreateJobRequest(
      options({
        clientRequestToken: 'csv-stale',
        manifest: { kind: 'csv', objectArn: uploaded.objectArn, etag: '0'.repeat(32) },
      }),
    ),
  );
  await control.advance(stale);
  await control.advance(stale);
  const failed = await describeBackfillJob({ client, accountId: ACCOUNT }, stale);
  assert.equal(failed.status, 'Failed');
  assert.match(failed.failureReasons[0].reason, /ETag/);
});

test('the server checks the account header, the host prefix and the signature, as S3 Control does', async () => {
  const port = new URL(control.endpoint).port;
  const raw = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/v20180820/jobs', method: 'GET', headers }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const unsigned = await raw({ host: `${ACCOUNT}.localhost`, 'x-amz-account-id': ACCOUNT });
  assert.equal(unsigned.status, 403);
  const signed = { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request' };
  const noPrefix = await raw({ ...signed, host: 'localhost', 'x-amz-account-id': ACCOUNT });
  assert.equal(noPrefix.status, 400);
  assert.match(noPrefix.body, /<Code>InvalidRequest<\/Code>.*does not start with the account id/s);
});
