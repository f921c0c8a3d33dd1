/**
 * Remote measuring against the loopback servers: a layer by ARN through range reads, models in S3, the account's
 * limits.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { measureLayerArn } from '../../src/remote/layer-arn.js';
import { measureS3Model } from '../../src/remote/s3-model.js';
import { readAccountLimits } from '../../src/remote/account-limits.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { artifactInfo, incompressible, makeZip, startDeployEnv } from '../helpers/s3-deploy-fixtures.js';

test('a layer by ARN is measured from its central directory with range reads, never downloaded whole', async (t) => {
  const env = await startDeployEnv(t, { buckets: [] });
  const files: Record<string, Buffer | string> = {
    'nodejs/node_modules/sharp/package.json': JSON.stringify({ name: 'sharp', version: '0.33.5' }),
    'nodejs/node_modules/sharp/lib/index.js': 'module.exports = {};',
    'nodejs/node_modules/@tensorflow/tfjs/package.json': JSON.stringify({
      name: '@tensorflow/tfjs',
      version: '4.22.0',
    }),
    'nodejs/node_modules/@tensorflow/tfjs/dist/tf.bin': incompressible(3 * 1_048_576, 3),
  };
  for (let i = 0; i < 200; i++) files[`python/lib/python3.11/site-packages/pkg${i}/mod.py`] = `x = ${i}\n`.repeat(50);
  await makeZip(join(env.dir, 'layer.zip'), files);
  const local = await artifactInfo(env.dir, 'layer.zip');
  const arn = await env.server.addLayer('tf_sharp', join(env.dir, 'layer.zip'), 4);
  const layer = await measureLayerArn(env.lambda, arn, {
    readFiles: (name) => /node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(name),
  });
  assert.equal(layer.name, 'tf_sharp');
  assert.equal(layer.version, 4);
  assert.equal(layer.bytes, local.unzippedBytes, 'same unzipped bytes as yauzl reads from the whole file');
  assert.equal(layer.zipBytes, local.bytes);
  assert.equal(layer.files, local.files);
  assert.equal(layer.codeSha256, local.sha256Base64);
  assert.equal(JSON.parse(layer.contents['nodejs/node_modules/sharp/package.json']).version, '0.33.5');
  assert.equal(JSON.parse(layer.contents['nodejs/node_modules/@tensorflow/tfjs/package.json']).version, '4.22.0');
  const served = env.server.rangeRequests.reduce((sum, request) => sum + request.servedBytes, 0);
  assert.ok(
    env.server.rangeRequests.every((request) => request.range !== null),
    'every read had a Range header',
  );
  assert.ok(served < local.bytes / 10, `served ${served} bytes of a ${local.bytes}-byte zip`);
  assert.equal(layer.fetchedBytes, served);
});

test('a zip64 layer (zip -fz) is measured the same way', async (t) => {
  const env = await startDeployEnv(t, { buckets: [] });
  await makeZip(join(env.dir, 'layer64.zip'), { 'python/a.py': 'a = 1\n', 'python/b/c.py': 'c = 2\n'.repeat(100) }, [
    '-fz',
  ]);
  const local = await artifactInfo(env.dir, 'layer64.zip');
  const arn = await env.server.addLayer('z64', join(env.dir, 'layer64.zip'));
  const layer = await measureLayerArn(env.lambda, arn);
  assert.equal(layer.bytes, local.unzippedBytes);
  assert.deepEqual(layer.entries.map((entry) => entry.name).sort(), ['python/a.py', 'python/b/c.py']);
});

test('an unknown layer ARN is a clear AWS error (exit 3)', async (t) => {
  const env = await startDeployEnv(t, { buckets: [] });
  await assert.rejects(
    measureLayerArn(env.lambda, 'arn:aws:lambda:us-east-1:123456789012:layer:missing:1'),
    (error: unknown) => {
      assert.ok(error instanceof LambdaMlError);
      assert.equal(error.code, 'aws');
      assert.match(
        error.message,
        new RegExp(
          [
            String.raw`^GetLayerVersionByArn arn:aws:lambda:us-east-1:123456789012:layer:missing:1: not found `,
            String.raw`\(ResourceNotFoundException\)`,
          ].join(''),
        ),
      );
      return true;
    },
  );
});

test('models in S3: a TF.js folder (sizes by ListObjectsV2, memory from model.json) and one Keras file', async (t) => {
  const env = await startDeployEnv(t, { buckets: ['my-models'] });
  const model = {
    format: 'layers-model',
    modelTopology: {},
    weightsManifest: [
      {
        paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
        weights: [
          { name: 'conv/kernel', shape: [3, 3, 3, 32], dtype: 'float32' },
          { name: 'conv/bias', shape: [32], dtype: 'float32' },
        ],
      },
      {
        paths: ['group2-shard1of1.bin'],
        weights: [
          {
            name: 'dense/kernel',
            shape: [1280, 10],
            dtype: 'float32',
            quantization: { dtype: 'uint8', min: -1, scale: 0.01 },
          },
        ],
      },
    ],
  };
  const put = (key: string, body: string | Buffer) =>
    env.s3.send(new PutObjectCommand({ Bucket: 'my-models', Key: key, Body: body }));
  await put('category/model.json', JSON.stringify(model));
  await put('category/group1-shard1of2.bin', Buffer.alloc(2000));
  await put('category/group1-shard2of2.bin', Buffer.alloc(1584));
  await put('category/group2-shard1of1.bin', Buffer.alloc(12800));
  await put('category/README.md', 'not part of the model');
  await put('keras/model.h5', Buffer.alloc(5000));
  const folder = await measureS3Model(env.s3, 's3://my-models/category/');
  assert.equal(folder.format, 'tfjs-layers');
  assert.equal(folder.memoryBytes, (3 * 3 * 3 * 32 + 32 + 1280 * 10) * 4);
  assert.equal(folder.bytes, JSON.stringify(model).length + 2000 + 1584 + 12800);
  assert.equal(folder.quantization, 'uint8');
  assert.deepEqual(folder.missing, []);
  const keras = await measureS3Model(env.s3, 's3://my-models/keras/model.h5');
  assert.deepEqual([keras.format, keras.bytes, keras.memoryIsEstimate], ['keras-h5', 5000, true]);
  await assert.rejects(measureS3Model(env.s3, 's3://my-models/nothing-here/'), /no model\.json there/);
});

test("GetAccountSettings gives the account's own byte limits", async (t) => {
  const env = await startDeployEnv(t, {
    buckets: [],
    accountLimits: { CodeSizeUnzipped: 300_000_000, CodeSizeZipped: 60_000_000 },
  });
  const limits = await readAccountLimits(env.lambda);
  assert.equal(limits.unzippedBytes, 300_000_000);
  assert.equal(limits.zipDirectBytes, 60_000_000);
  assert.equal(limits.codeStorageBytes, 80_530_636_800);
  assert.deepEqual(
    env.server.calls.map((call) => call.op),
    ['GetAccountSettings'],
  );
});
