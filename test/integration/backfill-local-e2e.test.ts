/**
 * `backfill --local` end to end: the packaged Node example (the real classifier) in two Lambda-like environments,
 * against s3rver behind the loopback proxy (test/helpers/lambda-server.ts, which injects S3 errors): images of
 * several formats and bad files, 503 SlowDown on tagging answered TemporaryFailure by the handler and tagged on
 * the runner's retry, user tags kept, a completion report in Batch Operations' format.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { emptyListingStats, listBackfillObjects } from '../../src/backfill/manifest-list.js';
import { runLocalBackfill } from '../../src/backfill/local-backfill.js';
import { startFunctionPool } from '../../src/backfill/local-pool.js';
import { readLocalReport } from '../../src/backfill/local-report.js';
import { backfillUserArguments } from '../../src/backfill/user-arguments.js';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { stageToEndpoint } from '../../src/invoke/stage-local.js';
import { ensureNodeExample, NODE_EXAMPLE } from '../../src/example/node-example.js';
import type { Manifest } from '../../src/types.js';
import { modelsHash } from '../../src/backfill/models-hash.js';
import { backfillImages, backfillLocal, uploadObjects } from '../bench/backfill.js';
import { AWS_TEST_ENV } from '../helpers/cli-procs.js';
import { startLambdaServer } from '../helpers/lambda-server.js';
import { startS3 } from '../helpers/s3rver.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'lambda-ml');
const BUCKET = 'backfill-e2e-photos';

/** A seeded noise image in `format`. */
async function image(seed: number, format: 'png' | 'jpeg' | 'webp' | 'gif'): Promise<Buffer> {
  const raw = Buffer.alloc(64 * 48 * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < raw.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    raw[i] = x >>> 24;
  }
  return sharp(raw, { raw: { width: 64, height: 48, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

const TITLE = 'the packaged classifier, run locally: formats, bad files, SlowDown retried, tags merged, the report';

/** The Node example packaged once for this file's two tests (each reads it; neither writes into it). */
let packaged: Promise<{ out: string; manifest: Manifest }> | undefined;
const packageOnce = () =>
  (packaged ??= (async () => {
    await ensureNodeExample();
    const work = await mkdtemp(join(tmpdir(), 'lambda-ml-backfill-e2e-'));
    const out = join(work, 'out');
    await promisify(execFile)(process.execPath, [BIN, 'package', '--out', out, '--json'], {
      cwd: NODE_EXAMPLE,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { out, manifest: JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest };
  })());
// At the file's end, not a test's: both tests use the package.
after(async () => {
  const done = await packaged?.catch(() => undefined);
  if (done) await rm(dirname(done.out), { recursive: true, force: true });
});

test(TITLE, { timeout: 240_000 }, async (t) => {
  const { out, manifest } = await packageOnce();
  const work = await mkdtemp(join(tmpdir(), 'lambda-ml-backfill-e2e-reports-'));
  t.after(() => rm(work, { recursive: true, force: true }));

  const s3 = await startS3(t);
  const proxy = await startLambdaServer({ s3Endpoint: s3.endpoint });
  t.after(() => proxy.stop());
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await stageToEndpoint(s3.client, manifest, out); // the models the function fetches, as deploy uploads them
  const formats = ['png', 'jpeg', 'webp', 'gif'] as const;
  const images = await Promise.all(Array.from({ length: 8 }, (_, i) => image(i + 1, formats[i % 4])));
  const keys: string[] = [];
  const put = async (key: string, body: Buffer | string) => {
    keys.push(key);
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  };
  await put('photos/baboon.png', baboonPhoto());
  for (const [i, body] of images.entries())
    await put(`photos/img ${i}.${formats[i % 4] === 'jpeg' ? 'jpg' : formats[i % 4]}`, body);
  await put('photos/notes.jpg', 'meeting notes, not a photo\n');
  await put('photos/truncated.jpg', images[1].subarray(0, 40));
  await s3.client.send(
    new PutObjectTaggingCommand({
      Bucket: BUCKET,
      Key: 'photos/baboon.png',
      Tagging: { TagSet: [{ Key: 'owner', Value: 'marketing' }] },
    }),
  );

  // Six 503s on tagging: the handler's SDK retries 3 times, so at least one task answers TemporaryFailure.
  proxy.failNext('PutObjectTagging', { status: 503, type: 'SlowDown', message: 'Please reduce your request rate.' }, 6);
  const records: { status: string; total?: number }[] = [];
  const onLog = (_slot: number, line: string) => {
    try {
      const parsed = JSON.parse(line);
      if (parsed.msg === 'lambda-ml record') records.push({ status: parsed.status, total: parsed.timings?.total });
    } catch {
      /* plain output */
    }
  };
  const pool = await startFunctionPool({
    manifest,
    outDir: out,
    size: 2,
    env: { ...process.env, ...AWS_TEST_ENV, ...s3.env },
    endpoint: proxy.endpoint,
    onLog,
  });
  t.after(() => pool.close());
  const stats = emptyListingStats();
  const retried: string[] = [];
  const result = await runLocalBackfill({
    pool,
    objects: listBackfillObjects(
      s3.client,
      { bucket: BUCKET, prefix: 'photos/', suffixes: ['.png', '.jpg', '.webp', '.gif'] },
      { stats },
    ),
    userArguments: backfillUserArguments({ reclassify: 'stale', modelsHash: 'e2e' }),
    report: { dir: join(work, 'reports'), scope: 'AllTasks' },
    retry: { baseDelayMs: 50, maxDelayMs: 200 },
    onRetry: (task, _attempt, _delay, message) => retried.push(`${task.key}: ${message}`),
  });
  assert.equal(stats.matched, keys.length);
  assert.equal(result.pool.coldStarts, 2);
  assert.ok(
    retried.length >= 1 && retried.every((r) => /SlowDown|503|reduce your request rate/i.test(r)),
    retried.join('\n'),
  );
  const rows = await readLocalReport(result.report.dir);
  assert.equal(rows.length, keys.length);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  for (const key of keys.filter((k) => !/notes|truncated/.test(k))) {
    assert.equal(byKey.get(key)?.taskStatus, 'succeeded', `${key}: ${byKey.get(key)?.resultMessage}`);
    const tags = (await s3.client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet ?? [];
    assert.ok(
      tags.some((tag) => tag.Key?.startsWith('ml:')),
      `${key} tagged`,
    );
  }
  for (const key of ['photos/notes.jpg', 'photos/truncated.jpg']) {
    assert.notEqual(
      byKey.get(key)?.errorCode,
      'TemporaryFailure',
      `${key} is not retried: ${byKey.get(key)?.resultMessage}`,
    );
  }
  const baboon =
    (await s3.client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'photos/baboon.png' }))).TagSet ?? [];
  assert.ok(
    baboon.some((tag) => tag.Key === 'owner' && tag.Value === 'marketing'),
    'the user tag is kept',
  );
  assert.equal(proxy.calls.filter((c) => c.op === 'PutObjectTagging' && c.status === 503).length, 6);
  const tagged = records.filter((r) => r.status === 'tagged' && typeof r.total === 'number').map((r) => r.total!);
  tagged.sort((a, b) => a - b);
  const p50 = tagged[Math.floor(tagged.length / 2)];
  const range = `${tagged[0]}-${tagged[tagged.length - 1]} ms`;
  t.diagnostic(`record time (tagged): p50 ${p50} ms, ${range} (${tagged.length} records)`);
  t.diagnostic(`${result.summary.elapsedMs} ms for ${rows.length} tasks at concurrency 2`);
  for (const key of ['photos/notes.jpg', 'photos/truncated.jpg']) {
    const row = byKey.get(key);
    t.diagnostic(`${key}: ${row?.taskStatus} ${row?.errorCode ?? ''} ${row?.resultMessage}`);
  }
});

const CLI_TITLE =
  'lambda-ml backfill --local: 80 images and bad files at concurrency 2 then 4, a second run tags nothing';

test(CLI_TITLE, { timeout: 420_000 }, async (t) => {
  const { out, manifest } = await packageOnce();
  const s3 = await startS3(t);
  const proxy = await startLambdaServer({ s3Endpoint: s3.endpoint });
  t.after(() => proxy.stop());
  const bucket = 'backfill-cli-photos';
  // 80: enough for both environments to interleave and retry; the 200-image rates are `npm run bench backfill`.
  const { images, bad } = await backfillImages(80);
  await uploadObjects(s3.client, bucket, [...images, ...bad]);
  const userTagged = images.filter((_, i) => i % 25 === 0).map((image) => image.key);
  for (const [i, key] of userTagged.entries()) {
    const TagSet = [
      { Key: 'owner', Value: `team-${i}` },
      { Key: 'ml:old', Value: 'stale' },
    ];
    await s3.client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet } }));
  }
  const formats = new Set(images.map((image) => image.key.split('.').pop()));
  assert.deepEqual([...formats].sort(), ['gif', 'jpg', 'png', 'webp']);
  const tagsOf = async (key: string) =>
    (await s3.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet ?? [];
  const puts = () => proxy.calls.filter((c) => c.op === 'PutObjectTagging').length;

  // Run 1, concurrency 2: six 503 SlowDown on tagging; the handler's SDK tries each call 3 times, so with two
  // environments interleaving, at least one call fails every attempt and its task answers TemporaryFailure.
  proxy.failNext('PutObjectTagging', { status: 503, type: 'SlowDown', message: 'Please reduce your request rate.' }, 6);
  const first = await backfillLocal({ out, bucket, prefix: 'photos/', endpoint: proxy.endpoint, concurrency: 2 });
  assert.equal(first.exitCode, 1, `a task failed permanently: exit 1\n${JSON.stringify(first.json).slice(0, 800)}`);
  assert.deepEqual([first.json.counts.succeeded, first.json.counts.failed], [images.length, bad.length]);
  assert.ok(first.json.counts.retries >= 1, 'the TemporaryFailure was retried');
  assert.equal(proxy.calls.filter((c) => c.op === 'PutObjectTagging' && c.status === 503).length, 6);
  assert.equal(puts(), images.length + 6, 'every image tagged once, plus the six throttled attempts');
  // The completion report (failed tasks only, as by default): the bad files, as PermanentFailure.
  const rows = await readLocalReport(first.json.report);
  assert.deepEqual(rows.map((r) => r.key).sort(), bad.map((b) => b.key).sort());
  for (const b of bad) {
    const row = rows.find((r) => r.key === b.key)!;
    assert.equal(row.errorCode, 'PermanentFailure', row.resultMessage);
    assert.match(row.resultMessage, /^failed \(/);
    assert.match(row.resultMessage, b.reason);
  }
  assert.deepEqual(
    first.json.failures.map((f) => f.errorCode),
    ['PermanentFailure', 'PermanentFailure'],
  );
  const hash = modelsHash(manifest.runtime.models);
  for (const key of [images[0].key, images[1].key, images[3].key, images[images.length - 1].key, ...userTagged]) {
    const tags = await tagsOf(key);
    assert.equal(tags.find((tag) => tag.Key === 'ml:models')?.Value, hash, key);
    assert.ok(
      tags.some((tag) => tag.Key === `ml:${manifest.runtime.models[0].tag}`),
      key,
    );
    assert.ok(!tags.some((tag) => tag.Key === 'ml:old'), `${key}: our stale tag is replaced`);
  }
  for (const [i, key] of userTagged.entries()) {
    assert.equal((await tagsOf(key)).find((tag) => tag.Key === 'owner')?.Value, `team-${i}`, `${key}: user tag kept`);
  }

  // Run 2, concurrency 4: every result is current, so not one PutObjectTagging; the bad files fail again.
  proxy.clearCalls();
  const second = await backfillLocal({ out, bucket, prefix: 'photos/', endpoint: proxy.endpoint, concurrency: 4 });
  assert.equal(second.exitCode, 1);
  assert.deepEqual([second.json.counts.succeeded, second.json.counts.failed], [images.length, bad.length]);
  assert.equal(puts(), 0, 'a second run makes no PutObjectTagging call');
  assert.equal(
    proxy.calls.filter((c) => c.op === 'GetObject' && c.params.Bucket === bucket).length,
    bad.length,
    'current objects are not even downloaded',
  );
  for (const [i, key] of userTagged.entries()) {
    assert.equal((await tagsOf(key)).find((tag) => tag.Key === 'owner')?.Value, `team-${i}`);
  }
  const rate = (r: typeof first) => ((images.length + bad.length) / (r.json.elapsedMs / 1000)).toFixed(1);
  t.diagnostic(
    `run 1 (classify, c=2): ${first.json.elapsedMs} ms, ${rate(first)}/s; ` +
      `run 2 (current, c=4): ${second.json.elapsedMs} ms, ${rate(second)}/s`,
  );
});
