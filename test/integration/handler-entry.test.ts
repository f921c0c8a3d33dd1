import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { HANDLER_SHIP } from '../../src/handler/ship.js';
import { startS3 } from '../helpers/s3rver.js';
import { modelSpec, nsfwModelDir, PROJECT_ROOT, runtimeConfig, s3Event } from '../helpers/handler-fixtures.js';

test('the tsc build of src/handler runs as index.mjs in a task root next to lambda-ml.runtime.json', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-entry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const build = join(dir, 'build');
  execFileSync(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'),
      '--outDir',
      build,
      '--rootDir',
      join(PROJECT_ROOT, 'src'),
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--skipLibCheck',
      '--strict',
      '--verbatimModuleSyntax',
      '--esModuleInterop',
      join(PROJECT_ROOT, 'src/handler/index.ts'),
    ],
    { cwd: PROJECT_ROOT, stdio: 'pipe' },
  );
  // Lay out the task root the way `package` does (see HANDLER_SHIP).
  const root = join(dir, 'task');
  await mkdir(join(root, HANDLER_SHIP.dir), { recursive: true });
  for (const f of await readdir(join(build, 'handler')))
    if (f.endsWith('.js')) await cp(join(build, 'handler', f), join(root, HANDLER_SHIP.dir, f));
  await writeFile(join(root, HANDLER_SHIP.dir, 'package.json'), HANDLER_SHIP.packageJson);
  await writeFile(join(root, HANDLER_SHIP.entry), HANDLER_SHIP.entrySource);
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules')); // the bundle strategy: deps in the task root
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
