import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { nodeHandlerFiles } from '../../src/runtimes/node-handler.js';
import { startS3 } from '../helpers/s3rver.js';
import { modelSpec, nsfwModelDir, PROJECT_ROOT, runtimeConfig, s3Event } from '../helpers/handler-fixtures.js';

test('the bundle runs as index.mjs in a task root with lambda-ml.runtime.json and only sharp beside it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-entry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Lay out the task root the way `package` does: the bundle's files at the root, sharp in node_modules.
  const root = join(dir, 'task');
  await mkdir(join(root, 'node_modules'), { recursive: true });
  for (const file of nodeHandlerFiles()) await cp(file.source!, join(root, file.path));
  await symlink(join(PROJECT_ROOT, 'node_modules', 'sharp'), join(root, 'node_modules', 'sharp'));
  await cp(await nsfwModelDir(), join(root, 'models', 'nsfw'), { recursive: true });
  const config = runtimeConfig([{ ...modelSpec(join(root, 'models', 'nsfw')), dir: 'models/nsfw' }]);
  await writeFile(join(root, 'lambda-ml.runtime.json'), JSON.stringify(config, null, 2));

  const s3 = await startS3(t);
  await s3.client.send(new CreateBucketCommand({ Bucket: 'photos' }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'photos', Key: 'in/baboon face.png', Body: baboonPhoto() }));
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  const script = `
    const { handler } = await import(${JSON.stringify(`file://${join(root, 'index.mjs')}`)});
    const ctx = { getRemainingTimeInMillis: () => 60000 };
    const res = await handler(${JSON.stringify(s3Event([{ bucket: 'photos', key: 'in/baboon face.png' }]))}, ctx);
    console.log(JSON.stringify({ result: { tagged: res.tagged } }));`;
  // Run it like Lambda would: another cwd, the task root in LAMBDA_TASK_ROOT, no tsx.
  // Asynchronously: s3rver runs in this process and must keep answering.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmp,
    env: { PATH: process.env.PATH, LAMBDA_TASK_ROOT: root, LAMBDA_ML_TMP: tmp, ...s3.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const run = { status, stdout, stderr };
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const record = lines.find((l) => l.msg === 'lambda-ml record');
  assert.equal(record.status, 'tagged', JSON.stringify(record));
  assert.equal(record.key, 'in/baboon face.png');
  assert.ok(record.coldStart.bootstrap >= 0 && record.coldStart.modelLoad.nsfw >= 0);
  assert.equal(record.coldStart.backend, 'wasm');
  assert.deepEqual(lines.at(-1), { result: { tagged: 1 } });
  const tags =
    (await s3.client.send(new GetObjectTaggingCommand({ Bucket: 'photos', Key: 'in/baboon face.png' }))).TagSet ?? [];
  assert.deepEqual(tags.map((x) => x.Key).sort(), ['ml:colors', 'ml:models', 'ml:nsfw', 'ml:nsfw:top']);
});
