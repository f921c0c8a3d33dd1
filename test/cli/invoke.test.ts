/** `lambda-ml invoke --local` as a real process: the packaged Node example against s3rver on loopback. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { ensureNodeExample, NODE_EXAMPLE } from '../../src/example/node-example.js';
import { hasAnsi, runBin } from '../helpers/cli.js';
import { assertOneLineError, AWS_TEST_ENV, tempDir, withoutSdkWarning } from '../helpers/cli-procs.js';
import { runtimeOf } from '../../src/runtimes/table.js';
import { startS3, type S3Server } from '../helpers/s3rver.js';

const BUCKET = 'lambda-ml-demo-assets';
const PHOTO = 'images/baboon.png';
const NOT_AN_IMAGE = 'images/notes.jpg';

// One package of the Node example and one s3rver for the whole file (packaging takes ~10 s).
const cleanups: (() => unknown)[] = [];
const scope = {
  after: (fn: () => unknown) => {
    cleanups.push(fn);
  },
};
after(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
let out = '';
let s3: S3Server;
let env: NodeJS.ProcessEnv;

before(async () => {
  await ensureNodeExample();
  out = join(await tempDir(scope, 'lambda-ml-invoke-out-'), 'out');
  const packaged = await runBin(['package', '--out', out, '--json'], { cwd: NODE_EXAMPLE });
  assert.equal(packaged.code, 0, packaged.stderr);
  assert.equal(JSON.parse(packaged.stdout).manifest.plan, 'bundle');
  s3 = await startS3(scope);
  env = { ...s3.env, ...AWS_TEST_ENV };
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: PHOTO, Body: baboonPhoto() }));
  await s3.client.send(
    new PutObjectTaggingCommand({
      Bucket: BUCKET,
      Key: PHOTO,
      Tagging: { TagSet: [{ Key: 'owner', Value: 'marketing' }] },
    }),
  );
  await s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: NOT_AN_IMAGE, Body: 'meeting notes, not a photo\n' }),
  );
});

const tagsOf = async (key: string) =>
  Object.fromEntries(
    ((await s3.client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet ?? []).map((tag) => [
      tag.Key,
      tag.Value,
    ]),
  );

test('--s3 --json --keep: cold-start timings, tags merged in s3rver, a kept task root with a fresh /tmp', async (t) => {
  const tmp = await tempDir(t, 'lambda-ml-invoke-tmpdir-');
  const result = await runBin(
    [
      'invoke',
      '--local',
      '--s3',
      `s3://${BUCKET}/${PHOTO}`,
      '--endpoint',
      s3.endpoint,
      '--out',
      out,
      '--json',
      '--keep',
    ],
    { cwd: NODE_EXAMPLE, env: { ...env, TMPDIR: tmp } },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(withoutSdkWarning(result.stderr), '');
  const body = JSON.parse(result.stdout);
  assert.equal(body.ok, true);
  assert.equal(body.plan, 'bundle');
  assert.equal(body.function, 'asset-classifier');
  for (const key of ['firstInvocationMs', 'backendInit', 'init'])
    assert.equal(typeof body.coldStart[key], 'number', key);
  assert.equal(body.coldStart.backend, 'onnx', 'backend auto: the example model converts');
  const runtime = runtimeOf(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).function.runtime);
  assert.equal(Number(body.node.version.split('.')[0]), runtime.major, "the handler ran on the runtime's Node major");
  assert.ok(['current', 'cache'].includes(body.node.source), body.node.source);
  assert.equal(typeof body.coldStart.modelLoad.safety, 'number');
  assert.ok(body.unpackMs > 0 && body.importMs >= 0);
  assert.deepEqual(body.warm, { count: 0, p50Ms: null, p95Ms: null });
  const record = body.invocations[0].result.results[0];
  assert.equal(record.status, 'tagged');
  assert.equal(record.key, PHOTO);
  const recordTags = Object.fromEntries(record.tags.map((tag: { Key: string; Value: string }) => [tag.Key, tag.Value]));
  assert.ok(recordTags['ml:safety'], 'the record has an ml:safety tag');

  const stored = await tagsOf(PHOTO);
  assert.equal(stored.owner, 'marketing', "the user's tag survives");
  assert.equal(stored['ml:safety'], recordTags['ml:safety']);
  assert.match(stored['ml:colors'] ?? '', /^[a-z]+( [a-z]+)*$/);

  // The child ran in a fresh session under TMPDIR: the unpacked zip as task root, and its own /tmp holding the model it
  // fetched.
  assert.equal(dirname(dirname(body.taskRoot)), tmp);
  assert.ok(existsSync(join(body.taskRoot, 'index.mjs')));
  assert.ok(existsSync(join(body.taskRoot, 'lambda-ml.runtime.json')));
  const models = await readdir(join(dirname(body.taskRoot), 'tmp', 'lambda-ml', 'models'));
  assert.equal(models.length, 1);
  assert.ok(existsSync(join(dirname(body.taskRoot), 'tmp', 'lambda-ml', 'models', models[0], 'model.onnx')));
});

test('--event FILE --repeat 3: the image tagged, the non-image a skipped record (exit 0), warm p50/p95', async (t) => {
  const dir = await tempDir(t);
  const record = (key: string) => ({
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    awsRegion: 'eu-west-1',
    s3: { bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { key, size: 1 } },
  });
  const eventFile = join(dir, 'event.json');
  await writeFile(eventFile, JSON.stringify({ Records: [record(PHOTO), record(NOT_AN_IMAGE)] }));
  const tmp = await tempDir(t, 'lambda-ml-invoke-tmpdir-');
  const result = await runBin(
    ['invoke', '--local', '--event', eventFile, '--repeat', '3', '--endpoint', s3.endpoint, '--out', out, '--json'],
    { cwd: NODE_EXAMPLE, env: { ...env, TMPDIR: tmp } },
  );
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.invocations.length, 3);
  assert.equal(body.warm.count, 2);
  assert.equal(typeof body.warm.p50Ms, 'number');
  assert.equal(typeof body.warm.p95Ms, 'number');
  assert.ok(body.warm.p50Ms <= body.warm.p95Ms);
  for (const invocation of body.invocations) {
    assert.equal(invocation.ok, true);
    assert.deepEqual([invocation.result.tagged, invocation.result.skipped, invocation.result.failed], [1, 1, 0]);
    const skipped = invocation.result.results.find((r: { key: string }) => r.key === NOT_AN_IMAGE);
    assert.equal(skipped.status, 'skipped');
    assert.equal(skipped.reason, 'not-an-image');
  }
  assert.ok(!('ml:safety' in (await tagsOf(NOT_AN_IMAGE))), 'a skipped object is not tagged');
  assert.deepEqual(await readdir(tmp), [], 'without --keep the task root and /tmp are removed');
});

test('human output lists the record and its tags, without colour', async () => {
  const result = await runBin(
    ['invoke', '--local', '--s3', `s3://${BUCKET}/${PHOTO}`, '--endpoint', s3.endpoint, '--out', out],
    { cwd: NODE_EXAMPLE, env },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!hasAnsi(result.stdout));
  assert.match(result.stdout, /^✓ invoked asset-classifier locally \(bundle, onnx, Node \d+\.\d+\.\d+\)$/m);
  assert.match(result.stdout, /^ {2}cold start \d+ ms: unpack \d+ ms, import \d+ ms/m);
  assert.match(
    result.stdout,
    new RegExp(
      `^ {2}s3://${BUCKET}/${PHOTO} {2}tagged \\d+ ms: download \\d+, decode \\d+, infer safety \\d+, tag \\d+$`,
      'm',
    ),
  );
  assert.match(result.stdout, /^ {4}ml:safety = \S+/m);
  assert.match(result.stdout, /^ {4}ml:colors = [a-z ]+$/m);
  assert.ok(!/^ {4}owner/m.test(result.stdout), "only the tool's own tags are listed");
});

test('exit 2 with one line: a missing manifest, both --event and --s3, no --local, a bad --repeat', async (t) => {
  const empty = await tempDir(t);
  const missing = await runBin(['invoke', '--local', '--s3', `s3://${BUCKET}/${PHOTO}`, '--out', empty], {
    cwd: NODE_EXAMPLE,
    env,
  });
  assert.equal(missing.code, 2);
  assertOneLineError(missing.stderr, /manifest\.json not found/);
  assert.equal(missing.stdout, '');
  const both = await runBin(
    ['invoke', '--local', '--event', join(empty, 'event.json'), '--s3', `s3://${BUCKET}/${PHOTO}`, '--out', out],
    { cwd: NODE_EXAMPLE, env },
  );
  assert.equal(both.code, 2);
  assertOneLineError(both.stderr, /exactly one of --s3-local --image FILE, --s3 s3:\/\/bucket\/key or --event FILE/);
  const remote = await runBin(['invoke', '--s3', `s3://${BUCKET}/${PHOTO}`, '--out', out], { cwd: NODE_EXAMPLE, env });
  assert.equal(remote.code, 2);
  assertOneLineError(remote.stderr, /--local/);
  const repeat = await runBin(['invoke', '--local', '--s3', `s3://${BUCKET}/${PHOTO}`, '--repeat', '0', '--out', out], {
    cwd: NODE_EXAMPLE,
    env,
  });
  assert.equal(repeat.code, 2);
  assertOneLineError(repeat.stderr, /--repeat/);
  const url = await runBin(['invoke', '--local', '--s3', 'https://example.com/cat.jpg', '--out', out], {
    cwd: NODE_EXAMPLE,
    env,
  });
  assert.equal(url.code, 2);
  assertOneLineError(url.stderr, /not s3:\/\/bucket\/key/);
});

/** A valid S3 event (invoke checks the shape) that also tells the probe what to do. */
const probeEvent = (probe: string) =>
  JSON.stringify({
    probe,
    Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: PHOTO } } }],
  });

/**
 * A probe function in place of the packaged one (same manifest, tiny function.zip): it reports what the runner gave it,
 * so the Lambda look-alike is checked directly: heap capped at memoryMb, a fresh /tmp per run kept across warm calls.
 */
async function probeOut(t: { after(fn: () => unknown): void }, memoryMb: number): Promise<string> {
  const dir = await tempDir(t, 'lambda-ml-probe-');
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  manifest.function.memoryMb = memoryMb;
  manifest.function.ephemeralStorageMb = 1024;
  manifest.artifacts.models = []; // nothing to stage
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(
    join(src, 'index.mjs'),
    `
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
export const handler = async (event, context) => {
  if (event.probe === 'oom') { const keep = []; for (;;) keep.push(new Array(1e6).fill(keep.length)); }
  const tmp = process.env.LAMBDA_ML_TMP;
  const before = readdirSync(tmp);
  writeFileSync(join(tmp, 'marker-' + context.awsRequestId), 'x');
  return { heapLimit: v8.getHeapStatistics().heap_size_limit, execArgv: process.execArgv, tmp, before,
    tmpLimit: process.env.LAMBDA_ML_TMP_LIMIT_BYTES, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    cwd: process.cwd(), taskRoot: process.env.LAMBDA_TASK_ROOT, remaining: context.getRemainingTimeInMillis() };
};
`,
  );
  await writeFile(join(src, 'lambda-ml.runtime.json'), JSON.stringify({ version: 1 }));
  execFileSync('zip', ['-q', '-X', join(dir, 'function.zip'), 'index.mjs', 'lambda-ml.runtime.json'], { cwd: src });
  return dir;
}

test('the child runs with the memory cap as its heap limit and a fresh /tmp of the configured size', async (t) => {
  const probe = await probeOut(t, 256);
  const event = join(probe, 'event.json');
  await writeFile(event, probeEvent('env'));
  const first = await runBin(['invoke', '--local', '--event', event, '--repeat', '2', '--out', probe, '--json'], {
    cwd: NODE_EXAMPLE,
    env: AWS_TEST_ENV,
  });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const [cold, warm] = JSON.parse(first.stdout).invocations.map((i: { result: any }) => i.result);
  assert.ok(cold.execArgv.includes('--max-old-space-size=256'), cold.execArgv.join(' '));
  assert.ok(cold.heapLimit >= 256 * 2 ** 20 && cold.heapLimit < 320 * 2 ** 20, `heap limit ${cold.heapLimit}`);
  assert.equal(cold.memory, '256');
  assert.equal(cold.tmpLimit, String(1024 * 2 ** 20));
  assert.equal(cold.cwd, cold.taskRoot);
  assert.ok(cold.remaining > 0 && cold.remaining <= 60_000);
  assert.deepEqual(cold.before, [], 'the first invocation sees an empty /tmp');
  assert.equal(warm.before.length, 1, 'a warm invocation sees what the previous one left in /tmp, as on Lambda');
  assert.ok(!existsSync(cold.tmp), 'the session is removed afterwards');
  const second = await runBin(['invoke', '--local', '--event', event, '--out', probe, '--json'], {
    cwd: NODE_EXAMPLE,
    env: AWS_TEST_ENV,
  });
  const again = JSON.parse(second.stdout).invocations[0].result;
  assert.notEqual(again.tmp, cold.tmp);
  assert.deepEqual(again.before, [], 'every invoke starts with a fresh /tmp');
});

test('a handler that outgrows the memory setting ends with one line naming the limit', async (t) => {
  const probe = await probeOut(t, 64);
  const event = join(probe, 'event.json');
  await writeFile(event, probeEvent('oom'));
  const result = await runBin(['invoke', '--local', '--event', event, '--out', probe], {
    cwd: NODE_EXAMPLE,
    env: AWS_TEST_ENV,
  });
  assert.equal(result.code, 2);
  assertOneLineError(result.stderr, /out of memory at 64 MB/);
});
