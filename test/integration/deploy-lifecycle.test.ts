/**
 * deploy against the loopback Lambda server + s3rver with the real SDK clients: create, no-op, code/config changes,
 * trigger merge, dry run.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { deploy } from '../../src/deploy/deploy.js';
import type { Manifest } from '../../src/types.js';
import {
  FAST_WAIT,
  makeManifest,
  makeZip,
  stageModel,
  startDeployEnv,
  writeFunctionZip,
  type DeployEnv,
} from '../helpers/s3-deploy-fixtures.js';

const ops = (calls: readonly { op: string }[]) => calls.map((call) => call.op);

async function firstDeploy(env: DeployEnv, extra: Partial<Parameters<typeof makeManifest>[0]> = {}): Promise<Manifest> {
  const out = join(env.dir, 'out');
  await writeFunctionZip(out, 'v1');
  await makeZip(join(out, 'deps.zip'), {
    'node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.3.0"}',
    'node_modules/left-pad/index.js': 'module.exports = 1;',
  });
  const model = await stageModel(out, 'category', 's3://my-models/category/');
  return makeManifest({ outDir: out, deps: { file: 'deps.zip', s3: null }, models: [model], ...extra });
}

test('first deploy creates, publishes, aliases and triggers; a second deploy makes no write call', async (t) => {
  const env = await startDeployEnv(t);
  const manifest = await firstDeploy(env);
  const out = join(env.dir, 'out');
  const lines: string[] = [];
  const first = await deploy(manifest, out, {
    lambda: env.lambda,
    s3: env.s3,
    wait: FAST_WAIT,
    log: (line) => lines.push(line),
  });

  assert.equal(first.functionArn, 'arn:aws:lambda:us-east-1:123456789012:function:asset-classifier');
  assert.equal(first.version, '1');
  assert.equal(first.alias, 'live');
  assert.equal(first.changed, true);
  assert.equal(first.codeSha256, manifest.artifacts.function.sha256Base64);
  const depsKey = `lambda-ml/asset-classifier/deps-${manifest.artifacts.deps!.sha256}.zip`;
  assert.deepEqual([...first.uploaded].sort(), [
    `s3://deploy-artifacts/${depsKey}`,
    's3://my-models/category/group1-shard1of1.bin',
    's3://my-models/category/model.json',
  ]);
  // the order of the server-side writes is the contract: uploads, create, publish, alias, permission, notification
  assert.deepEqual(ops(env.server.writes()), [
    'PutObject',
    'PutObject',
    'PutObject',
    'CreateFunction',
    'PublishVersion',
    'CreateAlias',
    'AddPermission',
    'PutBucketNotificationConfiguration',
  ]);
  const state = env.server.inspect('asset-classifier')!;
  assert.equal(state.config.CodeSha256, manifest.artifacts.function.sha256Base64);
  assert.equal(state.config.Handler, 'index.handler');
  assert.equal(state.config.Environment.Variables.LAMBDA_ML_DEPS_S3, `s3://deploy-artifacts/${depsKey}`);
  assert.equal(state.config.Environment.Variables.LOG_LEVEL, 'info');
  assert.deepEqual(state.aliases, { live: '1' });
  assert.equal(state.statements[0].Principal.Service, 's3.amazonaws.com');
  assert.deepEqual(state.statements[0].Condition, {
    StringEquals: { 'AWS:SourceAccount': '123456789012' },
    ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::dam-assets' },
  });
  const notification = env.server.notification('dam-assets')!;
  assert.deepEqual(
    notification.entries.map((e) => [e.id, e.arn, e.rules.map((r) => `${r.name}=${r.value}`).join(' ')]),
    [
      ['lambda-ml-asset-classifier:.jpg', `${first.functionArn}:live`, 'prefix=images/ suffix=.jpg'],
      ['lambda-ml-asset-classifier:.png', `${first.functionArn}:live`, 'prefix=images/ suffix=.png'],
    ],
  );
  const head = await env.s3.send(new HeadObjectCommand({ Bucket: 'deploy-artifacts', Key: depsKey }));
  assert.equal(head.Metadata?.sha256, manifest.artifacts.deps!.sha256);
  assert.ok(lines.some((line) => line.startsWith('uploaded s3://deploy-artifacts/')));

  env.server.clearCalls();
  const second = await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  assert.deepEqual(env.server.writes(), [], 'a redeploy with nothing changed writes nothing');
  assert.equal(second.changed, false);
  assert.equal(second.version, '1');
  assert.deepEqual(second.uploaded, []);
  assert.equal(second.skipped.length, 3);
  assert.ok(!ops(env.server.calls).includes('PutObject'));
});

test('a code change updates the code only, publishes version 2 and moves the alias', async (t) => {
  const env = await startDeployEnv(t);
  const manifest = await firstDeploy(env, { trigger: null });
  const out = join(env.dir, 'out');
  await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  await writeFunctionZip(out, 'v2');
  const changed = await makeManifest({
    outDir: out,
    deps: { file: 'deps.zip', s3: null },
    models: manifest.artifacts.models,
    trigger: null,
  });
  env.server.clearCalls();
  const result = await deploy(changed, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  assert.deepEqual(ops(env.server.writes()), ['UpdateFunctionCode', 'PublishVersion', 'UpdateAlias']);
  const update = env.server.writes()[0];
  assert.match(String(update.params.ZipFile), /^<\d+ bytes>$/, 'small code goes as ZipFile');
  assert.equal(result.version, '2');
  assert.deepEqual(env.server.inspect('asset-classifier')!.aliases, { live: '2' });
  assert.equal(env.server.inspect('asset-classifier')!.config.CodeSha256, changed.artifacts.function.sha256Base64);
});

test('a configuration change updates the configuration only (just the fields that differ)', async (t) => {
  const env = await startDeployEnv(t);
  const manifest = await firstDeploy(env, { trigger: null });
  const out = join(env.dir, 'out');
  await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  const bigger: Manifest = {
    ...manifest,
    function: { ...manifest.function, memoryMb: 3008, ephemeralStorageMb: 2048, environment: { LOG_LEVEL: 'debug' } },
  };
  env.server.clearCalls();
  const result = await deploy(bigger, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  assert.deepEqual(ops(env.server.writes()), ['UpdateFunctionConfiguration', 'PublishVersion', 'UpdateAlias']);
  const params = env.server.writes()[0].params;
  assert.equal(params.MemorySize, 3008);
  assert.deepEqual(params.EphemeralStorage, { Size: 2048 });
  assert.equal((params.Environment as { Variables: Record<string, string> }).Variables.LOG_LEVEL, 'debug');
  assert.equal(params.Role, undefined, 'an unchanged role is not re-sent (that would need iam:PassRole)');
  assert.equal(params.Timeout, undefined);
  assert.equal(result.version, '2');
  // the published version carries the new configuration
  const config = env.server.inspect('asset-classifier')!.config;
  assert.equal(config.MemorySize, 3008);
  assert.equal(config.LastUpdateStatus, 'Successful');
});

test('an architecture change goes with the code (UpdateFunctionCode), not the configuration', async (t) => {
  const env = await startDeployEnv(t);
  const manifest = await firstDeploy(env, { trigger: null });
  const out = join(env.dir, 'out');
  await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  env.server.clearCalls();
  await deploy({ ...manifest, function: { ...manifest.function, architecture: 'arm64' } }, out, {
    lambda: env.lambda,
    s3: env.s3,
    wait: FAST_WAIT,
  });
  assert.deepEqual(ops(env.server.writes()), ['UpdateFunctionCode', 'PublishVersion', 'UpdateAlias']);
  assert.deepEqual(env.server.writes()[0].params.Architectures, ['arm64']);
});

test('the trigger is merged into the bucket notifications: queue, topic and another function survive', async (t) => {
  const env = await startDeployEnv(t);
  env.server.seedNotification(
    'dam-assets',
    `<NotificationConfiguration>
    <QueueConfiguration><Id>thumbnails</Id><Queue>arn:aws:sqs:us-east-1:123456789012:thumbs</Queue>
      <Event>s3:ObjectCreated:*</Event>
      <Filter><S3Key><FilterRule><Name>prefix</Name><Value>thumbs/</Value></FilterRule></S3Key></Filter>
    </QueueConfiguration>
    <TopicConfiguration><Id>audit</Id><Topic>arn:aws:sns:us-east-1:123456789012:audit</Topic>
      <Event>s3:ObjectRemoved:*</Event>
    </TopicConfiguration>
    <CloudFunctionConfiguration><Id>virus-scan</Id>
      <CloudFunction>arn:aws:lambda:us-east-1:999999999999:function:scan</CloudFunction>
      <Event>s3:ObjectCreated:*</Event>
      <Filter><S3Key><FilterRule><Name>prefix</Name><Value>uploads/</Value></FilterRule></S3Key></Filter>
    </CloudFunctionConfiguration>
    <CloudFunctionConfiguration><Id>lambda-ml-asset-classifier</Id>
      <CloudFunction>arn:aws:lambda:us-east-1:123456789012:function:asset-classifier:old</CloudFunction>
      <Event>s3:ObjectCreated:*</Event>
      <Filter><S3Key><FilterRule><Name>prefix</Name><Value>legacy/</Value></FilterRule></S3Key></Filter>
    </CloudFunctionConfiguration>
    <EventBridgeConfiguration></EventBridgeConfiguration>
  </NotificationConfiguration>`,
  );
  const manifest = await firstDeploy(env);
  const result = await deploy(manifest, join(env.dir, 'out'), { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  const after = env.server.notification('dam-assets')!;
  assert.deepEqual(after.entries.map((e) => `${e.kind}:${e.id}`).sort(), [
    'CloudFunction:lambda-ml-asset-classifier:.jpg',
    'CloudFunction:lambda-ml-asset-classifier:.png',
    'CloudFunction:virus-scan',
    'Queue:thumbnails',
    'Topic:audit',
  ]);
  assert.equal(after.eventBridge, true);
  assert.equal(after.entries.find((e) => e.id === 'thumbnails')!.rules[0].value, 'thumbs/');
  assert.ok(after.entries.filter((e) => e.id.startsWith('lambda-ml-')).every((e) => e.arn === result.aliasArn));
  // and the next deploy leaves it alone
  env.server.clearCalls();
  await deploy(manifest, join(env.dir, 'out'), { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  assert.deepEqual(env.server.writes(), []);
});

test('dry run lists the calls it would make and writes nothing', async (t) => {
  const env = await startDeployEnv(t);
  const manifest = await firstDeploy(env);
  const out = join(env.dir, 'out');
  const plan = await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT, dryRun: true });
  assert.equal(plan.dryRun, true);
  assert.deepEqual(env.server.writes(), [], 'nothing reached the servers');
  assert.deepEqual(ops(plan.calls.filter((call) => call.write)), [
    'PutObject',
    'PutObject',
    'PutObject',
    'CreateFunction',
    'PublishVersion',
    'CreateAlias',
    'AddPermission',
    'PutBucketNotificationConfiguration',
  ]);
  const create = plan.calls.find((call) => call.op === 'CreateFunction')!;
  assert.equal(create.params.Role, manifest.function.role);
  assert.equal(create.params.MemorySize, 1024);
  assert.match(String((create.params.Code as { ZipFile: string }).ZipFile), /^<\d+ bytes>$/);
  assert.equal(plan.functionArn, 'arn:aws:lambda:us-east-1:123456789012:function:asset-classifier');
  assert.equal(env.server.inspect('asset-classifier'), null);

  // after a real deploy, a dry run of a config change lists exactly that change
  await deploy(manifest, out, { lambda: env.lambda, s3: env.s3, wait: FAST_WAIT });
  env.server.clearCalls();
  const next = await deploy({ ...manifest, function: { ...manifest.function, timeoutS: 120 } }, out, {
    lambda: env.lambda,
    s3: env.s3,
    wait: FAST_WAIT,
    dryRun: true,
  });
  assert.deepEqual(env.server.writes(), []);
  assert.deepEqual(ops(next.calls.filter((call) => call.write)), [
    'UpdateFunctionConfiguration',
    'PublishVersion',
    'UpdateAlias',
  ]);
  assert.deepEqual(next.calls.find((call) => call.op === 'UpdateFunctionConfiguration')!.params, {
    FunctionName: 'asset-classifier',
    Timeout: 120,
  });
});
