/**
 * deploy failures against the loopback servers: each step fails cleanly, the alias stays put, AWS errors are mapped
 * (exit 3).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { deploy } from '../../src/deploy/deploy.js';
import { makeClients } from '../../src/deploy/clients.js';
import { exitCodeFor } from '../../src/lib/errors.js';
import type { Manifest } from '../../src/types.js';
import {
  FAST_WAIT,
  makeManifest,
  makeZip,
  startDeployEnv,
  writeFunctionZip,
  type DeployEnv,
} from '../helpers/s3-deploy-fixtures.js';
import { rejection } from '../helpers/rejection.js';

const denied = (op: string) => ({
  status: 403,
  type: 'AccessDeniedException',
  message: `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:${op}`,
});

async function setUp(
  env: DeployEnv,
  trigger: Manifest['trigger'] = null,
): Promise<{ out: string; manifest: Manifest }> {
  const out = join(env.dir, 'out');
  await writeFunctionZip(out, 'v1');
  return { out, manifest: await makeManifest({ outDir: out, trigger }) };
}

test('each failed update step is named, the alias stays on the old version; the next deploy recovers', async (t) => {
  const env = await startDeployEnv(t);
  const { out, manifest } = await setUp(env);
  const run = (m: Manifest) => deploy(m, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  await run(manifest);
  await writeFunctionZip(out, 'v2');
  const v2base = await makeManifest({ outDir: out, trigger: null });
  const v2: Manifest = { ...v2base, function: { ...v2base.function, memoryMb: 2048 } };
  for (const step of ['UpdateFunctionCode', 'UpdateFunctionConfiguration', 'PublishVersion', 'UpdateAlias']) {
    env.server.failNext(step, denied(step));
    const error = await rejection(run(v2));
    assert.match(error.message, new RegExp(`^deploy failed at ${step}: access denied \\(AccessDeniedException\\)`));
    assert.match(error.message, /the function still runs version 1 \(alias live\)$/);
    assert.equal(error.code, 'aws');
    assert.equal(exitCodeFor(error), 3);
    assert.ok(error.hint);
    assert.deepEqual(
      env.server.inspect('asset-classifier')!.aliases,
      { live: '1' },
      `alias unchanged after ${step} failed`,
    );
  }
  const done = await run(v2);
  assert.equal(done.version, '2');
  assert.deepEqual(env.server.inspect('asset-classifier')!.aliases, { live: '2' });
  assert.equal(env.server.inspect('asset-classifier')!.config.MemorySize, 2048);
});

test('a failure in the first deploy or in the trigger says what is live', async (t) => {
  const env = await startDeployEnv(t);
  const { out, manifest } = await setUp(env, { bucket: 'dam-assets', prefix: '', suffixes: [] });
  const run = () => deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  env.server.failNext('CreateFunction', denied('CreateFunction'));
  assert.match(
    (await rejection(run())).message,
    /^deploy failed at CreateFunction: .*; no version is live through alias live yet$/,
  );
  env.server.failNext('CreateAlias', denied('CreateAlias'));
  assert.match(
    (await rejection(run())).message,
    /^deploy failed at CreateAlias: .*; no version is live through alias live yet$/,
  );
  env.server.failNext('AddPermission', denied('AddPermission'));
  assert.match(
    (await rejection(run())).message,
    new RegExp(
      [
        String.raw`^deploy failed at AddPermission: .*; alias live already points at the `,
        String.raw`new version 1, but the S3 trigger is not configured$`,
      ].join(''),
    ),
  );
  env.server.failNext('PutBucketNotificationConfiguration', {
    status: 403,
    type: 'AccessDenied',
    message: 'Access Denied',
  });
  const error = await rejection(run());
  assert.match(
    error.message,
    new RegExp(
      [
        String.raw`^deploy failed at PutBucketNotificationConfiguration: access denied `,
        String.raw`\(AccessDenied\): Access Denied; the function still runs version 1`,
      ].join(''),
    ),
  );
  const done = await run();
  assert.equal(done.version, '1');
  assert.equal(env.server.notification('dam-assets')!.entries.length, 1);
});

test('an upload failure stops before any Lambda write', async (t) => {
  const env = await startDeployEnv(t);
  const out = join(env.dir, 'out');
  await writeFunctionZip(out, 'v1');
  await makeZip(join(out, 'deps.zip'), { 'node_modules/a/index.js': 'module.exports = 1;' });
  const manifest = await makeManifest({ outDir: out, deps: { file: 'deps.zip', s3: null }, trigger: null });
  env.server.failNext('PutObject', { status: 403, type: 'AccessDenied', message: 'Access Denied' });
  const error = await rejection(deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT }));
  assert.match(error.message, /^deploy failed at PutObject: access denied/);
  assert.deepEqual(
    env.server.writes().map((call) => call.op),
    ['PutObject'],
  );
});

test('throttling is retried by the SDK, then reported', async (t) => {
  const env = await startDeployEnv(t);
  const { out, manifest } = await setUp(env);
  await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  const throttled = { status: 429, type: 'TooManyRequestsException', message: 'Rate exceeded' };
  env.server.failNext('UpdateFunctionConfiguration', throttled, 1);
  const ok = await deploy({ ...manifest, function: { ...manifest.function, timeoutS: 30 } }, out, {
    lambda: env.lambda,
    s3: env.s3,
    wait: FAST_WAIT,
  });
  assert.equal(ok.version, '2');
  assert.equal(
    env.server.calls.filter((call) => call.op === 'UpdateFunctionConfiguration' && call.status === 429).length,
    1,
  );
  env.server.failNext('UpdateFunctionConfiguration', throttled, 10);
  const error = await rejection(
    deploy({ ...manifest, function: { ...manifest.function, timeoutS: 45 } }, out, {
      lambda: env.lambda,
      s3: env.s3,
      wait: FAST_WAIT,
    }),
  );
  assert.match(
    error.message,
    new RegExp(
      [
        String.raw`^deploy failed at UpdateFunctionConfiguration: AWS throttled the request \(still throttled `,
        String.raw`after 3 attempts\): Rate exceeded; the function still runs version 2`,
      ].join(''),
    ),
  );
  assert.match(error.hint ?? '', /AWS_MAX_ATTEMPTS/);
});

test('a write that meets "update in progress" (409) waits and retries', async (t) => {
  const env = await startDeployEnv(t, { updateDelayMs: 1000 });
  const { out, manifest } = await setUp(env);
  await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: { ...FAST_WAIT, minDelay: 0.1, maxDelay: 0.4 } });
  await writeFunctionZip(out, 'v2');
  const next = await makeManifest({ outDir: out, trigger: null });
  // someone else's update is in progress when deploy writes
  await env.lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: 'asset-classifier', Description: 'touched by hand' }),
  );
  const result = await deploy(next, out, {
    lambda: env.lambda,
    s3: env.s3,
    wait: { ...FAST_WAIT, minDelay: 0.1, maxDelay: 0.4 },
  });
  assert.equal(result.version, '2');
  const codeCalls = env.server.calls.filter((call) => call.op === 'UpdateFunctionCode');
  assert.equal(codeCalls[0].status, 409);
  assert.equal(codeCalls.at(-1)!.status, 200);
});

test('AWS validation errors mapped: unknown layer, malformed role, unzipped size over 262,144,000 bytes', async (t) => {
  const env = await startDeployEnv(t);
  const { out, manifest } = await setUp(env);
  const run = (m: Manifest) =>
    rejection(deploy(m, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT, accountId: '123456789012' }));
  const unknownLayer = await run({
    ...manifest,
    layers: [{ name: 'tf', arn: 'arn:aws:lambda:us-east-1:123456789012:layer:tf:9' }],
  });
  assert.match(
    unknownLayer.message,
    new RegExp(
      [
        String.raw`^deploy failed at CreateFunction: AWS rejected a parameter \(InvalidParameterValueException\): `,
        String.raw`Layer version arn:aws:lambda:us-east-1:123456789012:layer:tf:9 does not exist\.`,
      ].join(''),
    ),
  );
  const badRole = await run({
    ...manifest,
    function: { ...manifest.function, role: 'arn:aws:iam::123456789012:user/asset-classifier' },
  });
  assert.match(badRole.message, /ValidationException.*at 'role' failed to satisfy constraint/);

  // 150 MB layer + 120 MB function: each fits, together they do not (Lambda counts both, unzipped)
  // zeros piped into zip (entry "-"): a tiny zip with a huge unzipped size, without writing the bytes to disk
  execFileSync('sh', ['-c', `head -c 150000000 /dev/zero | zip -q -1 '${join(env.dir, 'layer.zip')}' -`]);
  const layerArn = await env.server.addLayer('big', join(env.dir, 'layer.zip'));
  await makeZip(join(out, 'function.zip'), { 'index.mjs': 'export const handler = () => 1;' });
  execFileSync('sh', ['-c', `head -c 120000000 /dev/zero | zip -q -1 '${join(out, 'function.zip')}' -`]);
  const big = await makeManifest({ outDir: out, trigger: null, layers: [{ name: 'big', arn: layerArn }] });
  const tooBig = await run(big);
  assert.match(
    tooBig.message,
    new RegExp(
      [
        String.raw`^deploy failed at CreateFunction: function \+ layers are over Lambda's unzipped `,
        String.raw`limit \(Unzipped size must be smaller than 262144000 bytes\)`,
      ].join(''),
    ),
  );
  assert.match(tooBig.hint ?? '', /lambda-ml budget/);
  assert.equal(exitCodeFor(tooBig), 3);
});

test('no credentials: one line that says how to configure them', async (t) => {
  const env = await startDeployEnv(t);
  const { out, manifest } = await setUp(env);
  const noCredentials = async () => {
    throw Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
  };
  const clients = makeClients({ region: 'us-east-1', endpointUrl: env.server.endpoint, credentials: noCredentials });
  t.after(() => {
    clients.lambda.destroy();
    clients.s3.destroy();
  });
  const error = await rejection(deploy(manifest, out, { lambda: clients.lambda, s3: clients.s3, wait: FAST_WAIT }));
  assert.match(error.message, /^deploy failed at GetFunction: no AWS credentials found/);
  assert.match(error.hint ?? '', /--profile/);
  assert.equal(exitCodeFor(error), 3);
  assert.deepEqual(env.server.calls, [], 'nothing was sent');
});

test('input problems are exit 2 before any call: a layer without an ARN, a new function without a role', async (t) => {
  const env = await startDeployEnv(t);
  const { out, manifest } = await setUp(env);
  const noArn = await rejection(
    deploy({ ...manifest, layers: [{ name: 'local', arn: null }] }, out, {
      lambda: env.lambda,
      s3: env.s3,
      wait: FAST_WAIT,
    }),
  );
  assert.equal(exitCodeFor(noArn), 2);
  assert.match(noArn.message, /layer local has no arn/);
  const noRole = await rejection(
    deploy({ ...manifest, function: { ...manifest.function, role: null } }, out, {
      lambda: env.lambda,
      s3: env.s3,
      wait: FAST_WAIT,
      accountId: '123456789012',
    }),
  );
  assert.equal(exitCodeFor(noRole), 2);
  assert.match(noRole.message, /function\.role is not set/);
  assert.deepEqual(env.server.writes(), []);
});
