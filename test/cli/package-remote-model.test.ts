/** A model that lives only in S3: budget measures it there, package lists it in the runtime config for the handler. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ensureNodeExample, NODE_EXAMPLE } from '../../src/example/node-example.js';
import { nsfwjsLabels } from '../../src/example/nsfwjs-model.js';
import type { Manifest } from '../../src/types.js';
import { runBin } from '../helpers/cli.js';
import { startS3 } from '../helpers/s3rver.js';

test(
  'an S3-only model: budget measures it through the endpoint, package puts it in lambda-ml.runtime.json',
  { timeout: 240_000 },
  async (t) => {
    await ensureNodeExample();
    const s3 = await startS3(t);
    const modelDir = join(NODE_EXAMPLE, 'models', 'mobilenet_v2');
    await s3.client.send(new CreateBucketCommand({ Bucket: 'remote-models' }));
    const names = readdirSync(modelDir)
      .filter((n) => n !== 'labels.json')
      .sort();
    for (const name of names)
      await s3.client.send(
        new PutObjectCommand({
          Bucket: 'remote-models',
          Key: `content/${name}`,
          Body: readFileSync(join(modelDir, name)),
        }),
      );
    const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-remote-model-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(modelDir, 'labels.json'), join(dir, 'labels.json'));
    writeFileSync(
      join(dir, 'lambda-ml.config.json'),
      JSON.stringify({
        function: { name: 'remote-model', runtime: 'nodejs24.x', memoryMb: 1024 },
        deps: join(NODE_EXAMPLE, 'node_modules'),
        prune: 'safe',
        models: [
          {
            name: 'content',
            s3: 's3://remote-models/content/',
            labels: 'labels.json',
            input: { width: 224, height: 224, range: [0, 1] },
            tag: 'content',
          },
        ],
      }),
    );
    const env = { ...s3.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

    const budget = await runBin(['budget', '--json', '--endpoint-url', s3.endpoint], { cwd: dir, env });
    assert.equal(budget.code, 0, budget.stderr);
    const model = JSON.parse(budget.stdout).components.models[0];
    const bytes = names.reduce((total, name) => total + readFileSync(join(modelDir, name)).length, 0);
    assert.deepEqual(
      { format: model.format, bytes: model.bytes, location: model.location, quantization: model.quantization },
      { format: 'tfjs-layers', bytes, location: 's3', quantization: 'uint8' },
    );
    assert.ok(
      model.memoryBytes > 4 * 2_600_000 && model.memoryBytes < 4 * 2_700_000,
      `float32 weights: ${model.memoryBytes}`,
    );

    const out = join(dir, 'out');
    const pack = await runBin(['package', '--json', '--endpoint-url', s3.endpoint, '--out', out], { cwd: dir, env });
    assert.equal(pack.code, 0, pack.stderr);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(manifest.artifacts.models, [], 'nothing to stage: the model is already in S3');
    const [runtime] = manifest.runtime.models;
    assert.equal(runtime.s3, 's3://remote-models/content/');
    assert.deepEqual(
      runtime.files.map((f) => [f.name, f.bytes, f.sha256]).sort(),
      names.map((n) => [n, readFileSync(join(modelDir, n)).length, '']),
    );
    assert.deepEqual(runtime.labels, nsfwjsLabels());
  },
);
