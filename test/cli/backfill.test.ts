/**
 * `lambda-ml backfill` and `policy --backfill` through the CLI (in-process), with the real @aws-sdk/client-lambda,
 * client-s3 and client-s3-control against the loopback Lambda server (in front of s3rver) and the loopback S3 Control
 * server. The project is the bad-input starter, deployed for real first; the tests run in order on one set of servers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { copyStarterProject } from '../helpers/bad-input-project.js';
import { runCli } from '../helpers/cli.js';
import { AWS_TEST_ENV, assertOneLineError, tempDir } from '../helpers/cli-procs.js';
import { startLambdaServer, type LambdaServer } from '../helpers/lambda-server.js';
import { startS3ControlServer, type DecideTask, type S3ControlServer } from '../helpers/s3control-server.js';
import { startDeployS3, type DeployS3 } from '../helpers/s3rver-deploy.js';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/bad-inputs`;
const JOB_ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-ml-backfill`;
const BUCKETS = ['bad-inputs-models', 'bad-inputs-artifacts', 'bad-inputs-assets'];
const KEYS = ['images/a.jpg', 'images/b.png', 'images/bad.jpg', 'images/c d.jpeg', 'images/notes.txt', 'other/x.jpg'];
const SOURCE = 's3://bad-inputs-assets/images/';

const cleanups: (() => unknown)[] = [];
const scope = {
  after: (fn: () => unknown) => {
    cleanups.push(fn);
  },
};
after(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

let s3: DeployS3;
let lambda: LambdaServer;
let control: S3ControlServer;
let project = '';
let env: NodeJS.ProcessEnv = {};

/** What each task answers when a --wait polls (the server moves the job on every DescribeJob). */
const decide: DecideTask = (task) =>
  task.key.includes('bad')
    ? { code: 'PermanentFailure', message: 'failed (decode): Input buffer contains unsupported image format' }
    : { code: 'Succeeded', message: 'tagged' };

const backfill = (args: readonly string[]) =>
  runCli(['backfill', ...args, '--endpoint-url', lambda.endpoint], { cwd: project, env });
const createJobs = () => control.calls.filter((call) => call.op === 'CreateJob' && call.status === 200).length;

before(async () => {
  // the SDK reads credentials from the process's own environment
  Object.assign(process.env, { ...AWS_TEST_ENV, AWS_PROFILE: '' });
  // s3rver stores an aws-chunked body (a streamed PutObject with a CRC32 trailer) as is; S3 decodes it
  process.env.AWS_REQUEST_CHECKSUM_CALCULATION = 'WHEN_REQUIRED';
  delete process.env.AWS_PROFILE;
  s3 = await startDeployS3();
  lambda = await startLambdaServer({ s3Endpoint: s3.endpoint, updateDelayMs: 20 });
  control = await startS3ControlServer({ accountId: ACCOUNT, s3: s3.client, autoRun: { decide, tasksPerPoll: 10 } });
  scope.after(async () => {
    await control.stop();
    await lambda.stop();
    await s3.stop();
  });
  for (const bucket of BUCKETS) await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of KEYS) {
    await s3.client.send(new PutObjectCommand({ Bucket: 'bad-inputs-assets', Key: key, Body: `bytes of ${key}` }));
  }
  project = join(await tempDir(scope, 'lambda-ml-backfill-cli-'), 'project');
  await copyStarterProject(project);
  const configPath = join(project, 'lambda-ml.config.json');
  const config = JSON.parse(await readFile(configPath, 'utf8'));
  Object.assign(config, { region: 'us-east-1', backfill: { role: JOB_ROLE } });
  config.function.role = ROLE;
  await writeFile(configPath, JSON.stringify(config, null, 2));
  env = {
    ...AWS_TEST_ENV,
    NO_COLOR: '1',
    AWS_ENDPOINT_URL_S3_CONTROL: control.endpoint,
    LAMBDA_ML_BACKFILL_POLL_MS: '5',
  };
  const deployed = await runCli(['deploy', '--endpoint-url', lambda.endpoint], { cwd: project, env });
  assert.equal(deployed.code, 0, deployed.stderr);
});

test('backfill --dry-run --json: the CreateJob request, the object count and the cost; no job is created', async () => {
  const result = await backfill([SOURCE, '--dry-run', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.dryRun, true);
  const request = body.request;
  assert.equal(request.AccountId, ACCOUNT);
  assert.equal(request.RoleArn, JOB_ROLE);
  assert.equal(request.ConfirmationRequired, false);
  assert.equal(
    request.Operation.LambdaInvoke.FunctionArn,
    `arn:aws:lambda:us-east-1:${ACCOUNT}:function:bad-inputs:live`,
  );
  assert.equal(request.Operation.LambdaInvoke.InvocationSchemaVersion, '2.0');
  assert.deepEqual(Object.keys(request.Operation.LambdaInvoke.UserArguments).sort(), [
    'lambda-ml',
    'models',
    'reclassify',
  ]);
  assert.deepEqual(request.ManifestGenerator.S3JobManifestGenerator.Filter.KeyNameConstraint, {
    MatchAnyPrefix: ['images/'],
    MatchAnySuffix: ['.jpeg', '.jpg', '.png', '.webp'],
  });
  assert.equal(request.Report.Bucket, 'arn:aws:s3:::bad-inputs-artifacts');
  assert.equal(request.Report.Prefix, 'lambda-ml/backfill/reports');
  assert.match(request.ClientRequestToken, /^[0-9a-f]{64}$/);
  assert.equal(body.objects.matched, 4, 'a.jpg, b.png, bad.jpg, "c d.jpeg"; not notes.txt nor other/');
  assert.equal(body.objects.listed, 5);
  assert.deepEqual(
    body.cost.map((c: { architecture: string }) => c.architecture),
    ['x86_64', 'arm64'],
  );
  assert.ok(body.cost[0].totalUsd > 0.25, 'at least the per-job fee');
  assert.equal(body.time.estimated, true);
  assert.equal(createJobs(), 0);
  assert.equal(lambda.inspect('bad-inputs')?.reserved, null, 'nothing set in a dry run');
});

test('backfill --dry-run (human) prints the request, the count and the cost table', async () => {
  const result = await backfill([SOURCE, '--dry-run']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Dry run: the CreateJob request backfill would send$/m);
  assert.match(result.stdout, /"ClientRequestToken": "[0-9a-f]{64}"/);
  assert.match(result.stdout, /^objects +4 object\(s\) of 5 listed under s3:\/\/bad-inputs-assets\/images\//m);
  assert.match(result.stdout, /x86_64 +arm64 \(est\.\)/);
  assert.match(result.stdout, /^total +\$\d/m);
  assert.match(result.stderr, /no reserved concurrency/);
  assert.equal(createJobs(), 0);
});

let firstJob = '';

test('backfill creates one job; the same command again gets the same job (same ClientRequestToken)', async () => {
  const first = await backfill([SOURCE, '--json']);
  assert.equal(first.code, 0, first.stderr);
  firstJob = JSON.parse(first.stdout).jobId;
  assert.match(firstJob, /^[0-9a-f-]{36}$/);
  assert.equal(createJobs(), 1);
  const again = await backfill([SOURCE, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).jobId, firstJob);
  assert.equal(control.job(firstJob)?.status, 'New');
});

test('a changed model sha256 is a new token and a new job', async () => {
  const path = join(project, '.lambda-ml', 'manifest.json');
  const text = await readFile(path, 'utf8');
  const manifest = JSON.parse(text);
  const before = (await backfill([SOURCE, '--dry-run', '--json'])).stdout;
  manifest.runtime.models[0].files[0].sha256 = 'f'.repeat(64);
  await writeFile(path, JSON.stringify(manifest));
  try {
    const changed = await backfill([SOURCE, '--json']);
    assert.equal(changed.code, 0, changed.stderr);
    const body = JSON.parse(changed.stdout);
    assert.notEqual(body.jobId, firstJob);
    assert.notEqual(body.request.ClientRequestToken, JSON.parse(before).request.ClientRequestToken);
    assert.notEqual(
      body.request.Operation.LambdaInvoke.UserArguments.models,
      JSON.parse(before).request.Operation.LambdaInvoke.UserArguments.models,
    );
  } finally {
    await writeFile(path, text);
  }
});

test('backfill --wait: failed tasks grouped by reason from the completion report, exit 1', async () => {
  const result = await backfill([SOURCE, '--suffix', '.jpg', '--wait']);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^job \S+ Complete: 1 succeeded, 1 failed of 2$/m);
  assert.match(result.stdout, /^failures by reason:$/m);
  assert.match(result.stdout, /^ +1 +PermanentFailure +decode +e\.g\. s3:\/\/bad-inputs-assets\/images\/bad\.jpg$/m);
  assert.match(result.stderr, /2 \/ 2 \(100%\)/, 'the final progress line');
});

test('backfill --wait with every task succeeded exits 0; --force is another job', async () => {
  const result = await backfill([SOURCE, '--suffix', '.png', '--suffix', '.jpeg', '--wait', '--force', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.job.status, 'Complete');
  assert.equal(body.job.succeeded, 2);
  assert.deepEqual(body.failures, []);
  assert.equal(body.request.Operation.LambdaInvoke.UserArguments.reclassify, 'all');
});

test('backfill.maxConcurrency sets the reserved concurrency and says so', async () => {
  const path = join(project, 'lambda-ml.config.json');
  const text = await readFile(path, 'utf8');
  const config = JSON.parse(text);
  config.backfill.maxConcurrency = 50;
  await writeFile(path, JSON.stringify(config));
  try {
    const result = await backfill([SOURCE, '--suffix', '.webp']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /reserved concurrency is set to 50 \(it was none\); the trigger shares this limit/);
    assert.equal(lambda.inspect('bad-inputs')?.reserved, 50);
  } finally {
    await writeFile(path, text);
  }
});

test('an AWS error is one line naming the step, exit 3', async () => {
  control.failNext('CreateJob', { status: 400, code: 'TooManyRequestsException', message: 'Rate exceeded' }, 5);
  const result = await backfill([SOURCE, '--suffix', '.gif', '--quiet']);
  assert.equal(result.code, 3, result.stderr);
  assertOneLineError(
    result.stderr,
    /S3 Batch Operations CreateJob \(creating the job\) failed: TooManyRequestsException/,
  );
  const lambdaFail = { status: 404, type: 'ResourceNotFoundException', message: 'Cannot find alias' };
  lambda.failNext('GetAlias', lambdaFail);
  const missing = await backfill([SOURCE, '--dry-run', '--quiet']);
  assert.equal(missing.code, 3, missing.stderr);
  assertOneLineError(missing.stderr, /alias live of function bad-inputs does not exist/);
});

test('backfill --manifest csv uploads a URL-encoded manifest and the job reads it', async () => {
  const result = await backfill([SOURCE, '--manifest', 'csv', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  const location = body.request.Manifest.Location;
  assert.match(
    location.ObjectArn,
    /^arn:aws:s3:::bad-inputs-artifacts\/lambda-ml\/backfill\/manifests\/[0-9a-f]{64}\.csv$/,
  );
  const key = location.ObjectArn.split(':::bad-inputs-artifacts/')[1];
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const csv = await (
    await s3.client.send(new GetObjectCommand({ Bucket: 'bad-inputs-artifacts', Key: key }))
  ).Body!.transformToString();
  assert.match(csv, /^bad-inputs-assets,images\/c%20d\.jpeg$/m);
  assert.equal(csv.trim().split('\n').length, 4, csv);
  assert.equal(location.ETag, createHash('md5').update(csv).digest('hex'), 'the ETag of the uploaded bytes');
  const job = body.jobId as string;
  assert.equal(control.job(job)?.status, 'New');
  assert.equal(await control.advance(job), 'Preparing');
  assert.equal(await control.advance(job), 'Ready', 'the server read the manifest at that ETag');
});

test('policy --backfill prints the trust policy, the role policy and the caller policy', async () => {
  const human = await runCli(['policy', '--backfill'], { cwd: project, env });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^# Job role ${JOB_ROLE}: trust policy`, 'm'));
  const json = await runCli(['policy', '--backfill', '--json'], { cwd: project, env });
  const body = JSON.parse(json.stdout);
  assert.equal(body.trustPolicy.Statement[0].Principal.Service, 'batchoperations.s3.amazonaws.com');
  const invoke = body.rolePolicy.Statement.find((s: { Sid: string }) => s.Sid === 'InvokeTheAlias');
  assert.equal(invoke.Resource, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:bad-inputs:live`);
  const pass = body.callerPolicy.Statement.find((s: { Sid: string }) => s.Sid === 'PassTheJobRole');
  assert.equal(pass.Resource, JOB_ROLE);
});
