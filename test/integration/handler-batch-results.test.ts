/**
 * The answers the handler gives S3 Batch Operations (docs/handler.md, "Results"), with the real classifier, sharp and
 * s3rver: Succeeded (tagged, or already current: no PutObjectTagging), PermanentFailure (not an image, corrupt, too
 * big, unsupported format), TemporaryFailure (503 SlowDown, the deadline), result strings the report parser reads,
 * the models tag that makes results current or stale, and one CloudWatch EMF line per invocation.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { failureReason } from '../../src/backfill/failures.js';
import { modelsHash as jobModelsHash } from '../../src/backfill/models-hash.js';
import type { ReportRow } from '../../src/backfill/report-csv.js';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import type { BatchResponse } from '../../src/handler/event.js';
import { createHandler, type S3Summary } from '../../src/handler/handler.js';
import { modelsHash } from '../../src/handler/models-hash.js';
import { makeS3Ops, type S3Ops } from '../../src/handler/s3.js';
import type { RuntimeConfig } from '../../src/types.js';
import { startS3 } from '../helpers/s3rver.js';
import { context, loadDeps, modelSpec, nsfwModelDir, runtimeConfig, s3Event } from '../helpers/handler-fixtures.js';

const deps = loadDeps();
const BUCKET = 'backfill-results';
type Line = Record<string, any>;

/** S3Ops that count PutObjectTagging calls and can fail the next ones as S3 does (503 SlowDown). */
function counting(ops: S3Ops) {
  const state = { puts: 0, failPuts: 0 };
  const wrapped: S3Ops = {
    ...ops,
    async putTags(bucket, key, versionId, tags) {
      state.puts++;
      if (state.failPuts > 0) {
        state.failPuts--;
        throw Object.assign(new Error('Please reduce your request rate.'), {
          name: 'SlowDown',
          $metadata: { httpStatusCode: 503 },
          $retryable: { throttling: true },
        });
      }
      return ops.putTags(bucket, key, versionId, tags);
    },
  };
  return { ops: wrapped, state };
}

async function setup(t: TestContext, over: Partial<RuntimeConfig> = {}) {
  const s3 = await startS3(t);
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const tmpDir = await mkdtemp(join(tmpdir(), 'lambda-ml-batch-results-'));
  t.after(() => rm(tmpDir, { recursive: true, force: true }));
  const model = modelSpec(await nsfwModelDir());
  const make = (models: RuntimeConfig['models'][number][]) => {
    const lines: Line[] = [];
    const metrics: Line[] = [];
    const counted = counting(makeS3Ops(deps.sdk, s3.client));
    const handler = createHandler({
      config: runtimeConfig(models, over),
      taskRoot: tmpDir,
      tmpDir,
      tf: deps.tf,
      sharp: deps.sharp,
      s3: counted.ops,
      require: deps.req,
      env: { AWS_LAMBDA_FUNCTION_NAME: 'asset-classifier' },
      log: (l) => lines.push(l),
      metrics: (l) => metrics.push(l),
    });
    return { handler, lines, metrics, state: counted.state };
  };
  return { s3, model, make, ...make([model]) };
}

let invocation = 0;
/** A Batch Operations 2.0 event of one task, as S3 sends it (the key URL-encoded). */
const task = (key: string, userArguments: Record<string, string> = { reclassify: 'stale' }) => ({
  invocationSchemaVersion: '2.0',
  invocationId: `inv-${++invocation}`,
  job: { id: 'job-1', userArguments },
  tasks: [{ taskId: `t-${invocation}`, s3Bucket: BUCKET, s3Key: encodeURIComponent(key), s3VersionId: null }],
});

const put = (client: S3Client, key: string, body: Buffer | string) =>
  client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
const tagsOf = async (client: S3Client, key: string) =>
  (await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet ?? [];
const row = (resultString: string, errorCode: string): ReportRow => ({
  bucket: BUCKET,
  key: 'k',
  versionId: null,
  taskStatus: 'failed',
  errorCode,
  httpStatus: 200,
  resultMessage: resultString,
});

const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="red"/></svg>';

test('each kind of object gets an answer Batch Operations acts on, with a reason the parser reads', async (t) => {
  const { s3, handler, state } = await setup(t, { maxImageBytes: 2_000_000 });
  const jpeg = await deps.sharp(baboonPhoto()).jpeg().toBuffer();
  const cases = [
    { key: 'ok/baboon.png', body: baboonPhoto(), code: 'Succeeded', text: /^tagged: .*ml:models=/, reason: null },
    { key: 'bad/notes.jpg', body: 'meeting notes, not a photo\n', code: 'PermanentFailure', reason: 'not-an-image' },
    {
      key: 'bad/truncated.jpg',
      body: jpeg.subarray(0, Math.floor(jpeg.length / 3)),
      code: 'PermanentFailure',
      reason: /truncated|decode-failed/,
    },
    { key: 'bad/empty.png', body: '', code: 'PermanentFailure', reason: 'empty' },
    { key: 'bad/vector.png', body: SVG, code: 'PermanentFailure', reason: 'unsupported-format' },
    { key: 'bad/huge.png', body: Buffer.alloc(2_000_001, 1), code: 'PermanentFailure', reason: 'too-large' },
    { key: 'gone/never-there.jpg', body: null, code: 'Succeeded', text: /^skipped \(not-found\)/, reason: null },
  ] as const;
  for (const c of cases) if (c.body !== null) await put(s3.client, c.key, Buffer.from(c.body as Buffer | string));
  for (const c of cases) {
    const answer = (await handler(task(c.key), context())) as BatchResponse;
    assert.equal(answer.results.length, 1);
    const { resultCode, resultString } = answer.results[0];
    assert.equal(resultCode, c.code, `${c.key}: ${resultString}`);
    assert.ok(resultString.length <= 1024);
    if ('text' in c) assert.match(resultString, c.text as RegExp, c.key);
    if (c.reason === null) continue;
    assert.match(resultString, /^failed \([^)]+\): /, c.key);
    const reason = failureReason(row(resultString, resultCode));
    if (typeof c.reason === 'string') assert.equal(reason, c.reason, c.key);
    else assert.match(reason, c.reason, c.key);
  }
  assert.equal(state.puts, 1, 'only the photo was tagged');
});

test('already current: Succeeded without PutObjectTagging; reclassify all or a model update tags again', async (t) => {
  const { s3, handler, state, lines, make, model } = await setup(t);
  await put(s3.client, 'a.png', baboonPhoto());
  await s3.client.send(
    new PutObjectTaggingCommand({
      Bucket: BUCKET,
      Key: 'a.png',
      Tagging: {
        TagSet: [
          { Key: 'owner', Value: 'marketing' },
          { Key: 'ml:old', Value: 'x' },
        ],
      },
    }),
  );
  const hash = modelsHash([model]);
  assert.equal(hash, jobModelsHash([model]), 'the job and the handler compute the same hash');
  assert.match(hash, /^[0-9a-f]{8}$/);

  const first = (await handler(task('a.png'), context())) as BatchResponse;
  assert.equal(first.results[0].resultCode, 'Succeeded');
  const tags = await tagsOf(s3.client, 'a.png');
  const keys = tags.map((tag) => tag.Key);
  assert.deepEqual(
    keys.slice(0, 3),
    ['owner', 'ml:nsfw', 'ml:models'],
    'the user tag, then top-1, then the models tag',
  );
  assert.equal(tags.find((tag) => tag.Key === 'ml:models')?.Value, hash);
  assert.ok(!keys.includes('ml:old'), 'our stale tag is replaced');
  assert.equal(state.puts, 1);

  const again = (await handler(task('a.png'), context())) as BatchResponse;
  assert.equal(again.results[0].resultCode, 'Succeeded');
  assert.match(again.results[0].resultString, new RegExp(`^skipped \\(current\\): .*${hash}`));
  assert.equal(state.puts, 1, 'no PutObjectTagging for current results');
  assert.equal(lines.at(-1)?.reason, 'current');
  assert.equal(lines.at(-1)?.timings.download, undefined, 'not even downloaded');

  const forced = (await handler(task('a.png', { reclassify: 'all' }), context())) as BatchResponse;
  assert.match(forced.results[0].resultString, /^tagged: /);
  assert.equal(state.puts, 2, 'reclassify all tags again');

  // A new model version (another sha256): the same object is stale for the new function.
  const updated = make([
    { ...model, files: model.files.map((f, i) => (i === 0 ? { ...f, sha256: 'f'.repeat(64) } : f)) },
  ]);
  const stale = (await updated.handler(task('a.png'), context())) as BatchResponse;
  assert.match(stale.results[0].resultString, /^tagged: /);
  assert.equal(updated.state.puts, 1);
  const after = await tagsOf(s3.client, 'a.png');
  assert.notEqual(after.find((tag) => tag.Key === 'ml:models')?.Value, hash);
  assert.equal(after.find((tag) => tag.Key === 'owner')?.Value, 'marketing', 'the user tag is never lost');

  // An S3 event always classifies (a new upload is new content), and writes the models tag too.
  const event = (await handler(s3Event([{ bucket: BUCKET, key: 'a.png' }]), context())) as S3Summary;
  assert.equal(event.tagged, 1);
  assert.equal((await tagsOf(s3.client, 'a.png')).find((tag) => tag.Key === 'ml:models')?.Value, hash);
});

test('503 SlowDown and the deadline are TemporaryFailure; a retry tags; S3 events still skip bad images', async (t) => {
  const { s3, handler, state, metrics } = await setup(t);
  await put(s3.client, 'b.png', baboonPhoto());
  await put(s3.client, 'notes.jpg', 'not a photo');
  state.failPuts = 1;
  const throttled = (await handler(task('b.png'), context())) as BatchResponse;
  assert.equal(throttled.results[0].resultCode, 'TemporaryFailure', throttled.results[0].resultString);
  assert.match(throttled.results[0].resultString, /^failed \(SlowDown\): Please reduce your request rate/);
  assert.equal(failureReason(row(throttled.results[0].resultString, 'TemporaryFailure')), 'SlowDown');
  assert.ok(!(await tagsOf(s3.client, 'b.png')).some((tag) => tag.Key?.startsWith('ml:')), 'nothing written yet');
  const retried = (await handler(task('b.png'), context())) as BatchResponse;
  assert.equal(retried.results[0].resultCode, 'Succeeded');
  assert.ok((await tagsOf(s3.client, 'b.png')).some((tag) => tag.Key === 'ml:models'));

  const late = (await handler(task('notes.jpg'), context(400))) as BatchResponse;
  assert.equal(late.results[0].resultCode, 'TemporaryFailure');
  assert.match(late.results[0].resultString, /^failed \(deadline\): /);

  const summary = (await handler(s3Event([{ bucket: BUCKET, key: 'notes.jpg' }]), context())) as S3Summary;
  assert.deepEqual([summary.skipped, summary.failed], [1, 0], 'an S3 event record is skipped, with its reason logged');
  assert.equal(summary.results[0].reason, 'not-an-image');

  // One EMF line per invocation, with the function's name as the dimension.
  assert.equal(metrics.length, 4);
  const [first, , third, fourth] = metrics;
  assert.equal(first._aws.CloudWatchMetrics[0].Namespace, 'lambda-ml');
  assert.deepEqual(first._aws.CloudWatchMetrics[0].Dimensions, [['FunctionName']]);
  assert.equal(first.FunctionName, 'asset-classifier');
  assert.deepEqual([first.Failed, first.Tagged], [1, 0]);
  assert.ok(first['InferenceMs.nsfw'] > 0, 'inference ran before the tagging call failed');
  assert.deepEqual([third.Failed, third['InferenceMs.nsfw']], [1, undefined]);
  assert.deepEqual([fourth.Skipped, fourth.kind], [1, 's3']);
});
