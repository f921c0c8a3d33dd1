/**
 * deploy's on-failure destination (trigger.onFailure) against the loopback Lambda server with the real SDK:
 * PutFunctionEventInvokeConfig on the alias, nothing the second time, a change rewritten (an OnSuccess someone set is
 * kept), listed in a dry run; the server's own validation of the API; and the function role's grant.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  GetFunctionEventInvokeConfigCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { validateConfig } from '../../src/config/validate.js';
import { deploy } from '../../src/deploy/deploy.js';
import { policy } from '../../src/deploy/policy.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import type { Manifest, TriggerConfig } from '../../src/types.js';
import { FAST_WAIT, makeManifest, startDeployEnv, writeFunctionZip } from '../helpers/s3-deploy-fixtures.js';

const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:asset-failures';
const FN = 'asset-classifier';
const trigger = (over: Partial<TriggerConfig> = {}): TriggerConfig => ({
  bucket: 'dam-assets',
  prefix: 'images/',
  suffixes: ['.jpg'],
  onFailure: QUEUE,
  maxRetryAttempts: 1,
  maxEventAgeS: 3600,
  ...over,
});
const onFailureCalls = (calls: readonly { op: string }[]) =>
  calls.filter((c) => /EventInvokeConfig/.test(c.op)).map((c) => c.op);

test('the on-failure destination is set once; a second deploy makes no call for it; a change is written', async (t) => {
  const env = await startDeployEnv(t);
  const out = join(env.dir, 'out');
  await writeFunctionZip(out, 'v1');
  const manifest = await makeManifest({ outDir: out, trigger: trigger() });
  const run = (m: Manifest, dryRun = false) =>
    deploy(m, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT, dryRun });

  const dry = await run(manifest, true);
  assert.ok(
    dry.calls.some((c) => c.op === 'PutFunctionEventInvokeConfig' && c.write),
    'listed in a dry run',
  );
  assert.deepEqual(onFailureCalls(env.server.writes()), []);

  await run(manifest);
  const put = env.server.calls.filter((c) => c.op === 'PutFunctionEventInvokeConfig');
  assert.equal(put.length, 1);
  assert.equal(put[0].params.Qualifier, 'live');
  const stored = await env.lambda.send(
    new GetFunctionEventInvokeConfigCommand({ FunctionName: FN, Qualifier: 'live' }),
  );
  assert.equal(stored.DestinationConfig?.OnFailure?.Destination, QUEUE);
  assert.equal(stored.MaximumRetryAttempts, 1);
  assert.equal(stored.MaximumEventAgeInSeconds, 3600);
  assert.match(stored.FunctionArn ?? '', /:function:asset-classifier:live$/);

  env.server.clearCalls();
  await run(manifest);
  assert.deepEqual(onFailureCalls(env.server.calls), ['GetFunctionEventInvokeConfig'], 'read, not written');

  // someone adds an OnSuccess destination; lambda-ml moves the failures to S3 and keeps it
  const onSuccess = 'arn:aws:sqs:us-east-1:123456789012:asset-done';
  await env.lambda.send(
    new UpdateFunctionEventInvokeConfigCommand({
      FunctionName: FN,
      Qualifier: 'live',
      DestinationConfig: { OnSuccess: { Destination: onSuccess } },
    }),
  );
  env.server.clearCalls();
  await run({ ...manifest, trigger: trigger({ onFailure: 's3://dam-failures' }) });
  assert.deepEqual(onFailureCalls(env.server.calls), ['GetFunctionEventInvokeConfig', 'PutFunctionEventInvokeConfig']);
  const moved = await env.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: FN, Qualifier: 'live' }));
  assert.equal(moved.DestinationConfig?.OnFailure?.Destination, 'arn:aws:s3:::dam-failures');
  assert.equal(moved.DestinationConfig?.OnSuccess?.Destination, onSuccess);
});

test('without trigger.onFailure deploy makes no event invoke config call', async (t) => {
  const env = await startDeployEnv(t);
  const out = join(env.dir, 'out');
  await writeFunctionZip(out, 'v1');
  const manifest = await makeManifest({ outDir: out, trigger: trigger({ onFailure: null }) });
  await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  assert.deepEqual(onFailureCalls(env.server.calls), []);
});

test('the server validates PutFunctionEventInvokeConfig and PutFunctionConcurrency as AWS does', async (t) => {
  const env = await startDeployEnv(t);
  const out = join(env.dir, 'out');
  await writeFunctionZip(out, 'v1');
  await deploy(await makeManifest({ outDir: out, trigger: null }), out, {
    lambda: env.lambda,
    s3: env.s3,
    wait: FAST_WAIT,
  });
  const put = (input: Record<string, unknown>) =>
    env.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: FN,
        Qualifier: 'live',
        ...input,
      }),
    );
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['retries above 2', { MaximumRetryAttempts: 3 }, 'ValidationException', /maximumRetryAttempts/],
    ['age below 60', { MaximumEventAgeInSeconds: 59 }, 'ValidationException', /maximumEventAgeInSeconds/],
    ['age above 6 h', { MaximumEventAgeInSeconds: 21601 }, 'ValidationException', /less than or equal to 21600/],
    ['not an ARN', { DestinationConfig: { OnFailure: { Destination: 'my-queue' } } }, 'ValidationException', /pattern/],
    [
      'S3 on success',
      { DestinationConfig: { OnSuccess: { Destination: 'arn:aws:s3:::b' } } },
      'InvalidParameterValueException',
      /not supported for OnSuccess/,
    ],
    [
      'a FIFO queue',
      { DestinationConfig: { OnFailure: { Destination: `${QUEUE}.fifo` } } },
      'InvalidParameterValueException',
      /FIFO/,
    ],
    ['an unknown alias', { Qualifier: 'nope' }, 'ResourceNotFoundException', /nope/],
  ];
  for (const [label, input, name, message] of cases) {
    await assert.rejects(put(input), (error: Error) => error.name === name && message.test(error.message), label);
  }
  await assert.rejects(
    env.lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: FN, Qualifier: 'live' })),
    { name: 'ResourceNotFoundException' },
    'Update before any Put',
  );
  await assert.rejects(
    env.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: FN, ReservedConcurrentExecutions: 901 })),
    /below its minimum value of \[100\]/,
  );
  const set = await env.lambda.send(
    new PutFunctionConcurrencyCommand({ FunctionName: FN, ReservedConcurrentExecutions: 900 }),
  );
  assert.equal(set.ReservedConcurrentExecutions, 900);
});

test('config: trigger.onFailure and its limits; lambda-ml policy grants the destination', () => {
  const base = { function: { name: FN, role: 'arn:aws:iam::123456789012:role/r' } };
  const config = (t: Record<string, unknown>) =>
    validateConfig({ ...base, trigger: { bucket: 'dam-assets', ...t } }, '/tmp');
  const defaults = config({}).trigger!;
  assert.deepEqual([defaults.onFailure, defaults.maxRetryAttempts, defaults.maxEventAgeS], [null, 2, 21600]);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ onFailure: 's3://dam-failures/prefix/' }, /has a key prefix/],
    [{ onFailure: 'arn:aws:sqs:us-east-1:123456789012:q.fifo' }, /FIFO/],
    [{ onFailure: 'arn:aws:sqs:us-east-1:1234:q' }, /not an SQS queue ARN/],
    [{ onFailure: 'https://sqs.us-east-1.amazonaws.com/123456789012/q' }, /SQS queue ARN or an s3:\/\/bucket/],
    [{ onFailure: 's3://Bad_Bucket' }, /names a bucket that/],
    [{ maxRetryAttempts: 3 }, /trigger\.maxRetryAttempts is 3, outside 0–2/],
    [{ maxEventAgeS: 30 }, /trigger\.maxEventAgeS is 30, outside 60–21600/],
  ];
  for (const [t, message] of bad) {
    assert.throws(
      () => config(t),
      (error: LambdaMlError) => error.code === 'config' && message.test(error.message),
      message.source,
    );
  }
  const sqs = policy(config({ onFailure: QUEUE }));
  assert.deepEqual(
    sqs.Statement.find((s) => s.Sid === 'SendFailedEvents'),
    {
      Sid: 'SendFailedEvents',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: [QUEUE],
    },
  );
  const s3 = policy(config({ onFailure: 's3://dam-failures' }));
  assert.deepEqual(s3.Statement.find((s) => s.Sid === 'WriteFailedEvents')?.Resource, [
    'arn:aws:s3:::dam-failures',
    'arn:aws:s3:::dam-failures/*',
  ]);
});
