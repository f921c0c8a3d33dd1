import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { createHandler, type S3Summary } from '../../src/handler/handler.js';
import { makeS3Ops } from '../../src/handler/s3.js';
import type { BatchResponse } from '../../src/handler/event.js';
import { startS3 } from '../helpers/s3rver.js';
import {
  context,
  FIXTURES,
  hasFixtures,
  loadDeps,
  modelSpec,
  nsfwModelDir,
  photo,
  runtimeConfig,
  s3Event,
  SKIP_FIXTURES,
} from '../helpers/handler-fixtures.js';
import type { RuntimeConfig } from '../../src/types.js';

const deps = loadDeps();
const BUCKET = 'photos';
const S3_TAG_CHARS = /^[\p{L}\p{N}\s+\-=._:/@]*$/u;

async function setup(t: import('node:test').TestContext, over: Partial<RuntimeConfig> = {}) {
  const s3 = await startS3(t);
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const tmpDir = await mkdtemp(join(tmpdir(), 'lambda-ml-handler-'));
  t.after(() => rm(tmpDir, { recursive: true, force: true }));
  const lines: Record<string, any>[] = [];
  const config = runtimeConfig([modelSpec(await nsfwModelDir())], over);
  const handler = createHandler({
    config,
    taskRoot: tmpDir,
    tmpDir,
    tf: deps.tf,
    sharp: deps.sharp,
    s3: makeS3Ops(deps.sdk, s3.client),
    require: deps.req,
    log: (l) => lines.push(l),
  });
  return { s3, handler, lines, tmpDir };
}

const put = (client: S3Client, key: string, body: Buffer, tags: { Key: string; Value: string }[] = []) =>
  client
    .send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))
    .then(() =>
      tags.length
        ? client.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: key, Tagging: { TagSet: tags } }))
        : undefined,
    );
const tagsOf = async (client: S3Client, key: string): Promise<Record<string, string>> =>
  Object.fromEntries(
    ((await client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet ?? []).map((t) => [
      t.Key,
      t.Value,
    ]),
  );

test('photos get classification and colour tags; user tags are kept; the object is never rewritten', async (t) => {
  if (!hasFixtures()) return t.skip(SKIP_FIXTURES);
  const { s3, handler, lines } = await setup(t, { results: 's3://photos/ml-results/' });
  const photos = ['cat_tabby.jpg', 'grand_piano.jpg', 'pizza.jpg'];
  for (const name of photos)
    await put(s3.client, `in/${name}`, photo(name), [
      { Key: 'owner', Value: 'team-a' },
      { Key: 'ml:old', Value: 'stale' },
    ]);
  const before = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'in/cat_tabby.jpg' }));
  const summary = (await handler(
    s3Event(photos.map((n) => ({ bucket: BUCKET, key: `in/${n}` }))),
    context(),
  )) as S3Summary;
  assert.equal(summary.tagged, 3);
  for (const name of photos) {
    const tags = await tagsOf(s3.client, `in/${name}`);
    assert.equal(tags['ml:nsfw'], 'Neutral', name);
    assert.equal(tags.owner, 'team-a');
    assert.equal(tags['ml:old'], undefined, 'our stale tag is replaced');
    assert.match(tags['ml:nsfw:top'], /^Neutral=\d\.\d{3}( \w+=\d\.\d{3}){2}$/);
    assert.ok(tags['ml:colors'].split(' ').length >= 1);
    for (const [k, v] of Object.entries(tags)) {
      assert.match(k, S3_TAG_CHARS);
      assert.match(v, S3_TAG_CHARS);
      assert.ok(k.length <= 128 && v.length <= 256);
    }
  }
  const after = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'in/cat_tabby.jpg' }));
  assert.equal(after.ETag, before.ETag);
  assert.equal(after.LastModified?.getTime(), before.LastModified?.getTime());
  const sidecar = JSON.parse(
    await (
      await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ml-results/photos/in/pizza.jpg.json' }))
    ).Body!.transformToString(),
  );
  assert.equal(sidecar.predictions.nsfw[0].label, 'Neutral');
  assert.equal(lines.length, 3);
  assert.ok(lines[0].coldStart.modelLoad.nsfw >= 0 && lines[1].coldStart === undefined);
  assert.ok(lines[0].timings.infer.nsfw > 0 && 'download' in lines[0].timings && 'tag' in lines[0].timings);
});

test('9 user tags leave room for our top-priority tag only; the rest are logged as dropped', async (t) => {
  const { s3, handler, lines } = await setup(t);
  const user = Array.from({ length: 9 }, (_, i) => ({ Key: `user${i}`, Value: `v${i}` }));
  await put(s3.client, 'baboon.png', baboonPhoto(), user);
  await handler(s3Event([{ bucket: BUCKET, key: 'baboon.png' }]), context());
  const tags = await tagsOf(s3.client, 'baboon.png');
  assert.equal(Object.keys(tags).length, 10);
  for (const u of user) assert.equal(tags[u.Key], u.Value);
  assert.ok(tags['ml:nsfw']);
  assert.deepEqual(lines[0].dropped, ['ml:models', 'ml:colors', 'ml:nsfw:top']);
});

test('odd images: RGBA PNG, WebP, 2x2 GIF tagged; cut JPEG, text as .jpg skipped; spaced, accented key', async (t) => {
  if (!hasFixtures()) return t.skip(SKIP_FIXTURES);
  const { s3, handler, lines } = await setup(t);
  const objects: [string, Buffer][] = [
    ['photos/mon chat été.jpg', photo('cat_tabby.jpg')],
    ['owl+alpha.png', photo('owl_rgba_transparent_top.png')],
    ['cat.webp', photo('cat_tabby.webp')],
    ['tiny.gif', photo('tiny_2x2.gif')],
    ['tiny.png', photo('tiny_rgba_2x2.png')],
    ['dog-truncated.jpg', photo('dog_labrador_truncated.jpg')],
    ['notes.jpg', Buffer.from('this is not a photo\n')],
  ];
  for (const [key, body] of objects) await put(s3.client, key, body);
  const summary = (await handler(s3Event(objects.map(([key]) => ({ bucket: BUCKET, key }))), context())) as S3Summary;
  const byKey = Object.fromEntries(lines.map((l) => [l.key, l]));
  assert.equal(summary.tagged, 5);
  assert.equal(summary.skipped, 2);
  assert.equal(byKey['photos/mon chat été.jpg'].status, 'tagged');
  assert.equal((await tagsOf(s3.client, 'photos/mon chat été.jpg'))['ml:nsfw'], 'Neutral');
  assert.equal(byKey['owl+alpha.png'].status, 'tagged');
  // The transparent top is flattened onto white, so white is among the dominant colours.
  assert.ok(
    byKey['owl+alpha.png'].colors.some((c: { name: string }) => c.name === 'white'),
    JSON.stringify(byKey['owl+alpha.png'].colors),
  );
  assert.equal(byKey['cat.webp'].format, 'webp');
  assert.equal(byKey['tiny.gif'].status, 'tagged');
  assert.equal(byKey['dog-truncated.jpg'].status, 'skipped');
  assert.equal(byKey['dog-truncated.jpg'].reason, 'truncated');
  assert.equal(byKey['notes.jpg'].reason, 'not-an-image');
  assert.deepEqual(await tagsOf(s3.client, 'notes.jpg'), {});
});

test('oversized objects are skipped before download', async (t) => {
  const { s3, handler, lines } = await setup(t, { maxImageBytes: 1000 });
  await put(s3.client, 'big.png', baboonPhoto());
  await handler(s3Event([{ bucket: BUCKET, key: 'big.png' }]), context());
  assert.equal(lines[0].reason, 'too-large');
  assert.equal(lines[0].timings.download, undefined);
});

test('an S3 error mid-batch fails the invocation after the other records are done; a bad image does not', async (t) => {
  const { s3, handler, lines } = await setup(t);
  await put(s3.client, 'a.png', baboonPhoto());
  await put(s3.client, 'bad.jpg', Buffer.from('nope'));
  const ok = (await handler(
    s3Event([
      { bucket: BUCKET, key: 'bad.jpg' },
      { bucket: BUCKET, key: 'a.png' },
    ]),
    context(),
  )) as S3Summary;
  assert.deepEqual([ok.skipped, ok.tagged], [1, 1]);
  await assert.rejects(
    handler(
      s3Event([
        { bucket: BUCKET, key: 'a.png' },
        { bucket: 'no-such-bucket', key: 'x.jpg' },
        { bucket: BUCKET, key: 'bad.jpg' },
      ]),
      context(),
    ),
    /1 of 3 records failed: s3:\/\/no-such-bucket\/x\.jpg: NoSuchBucket/,
  );
  assert.equal(lines.at(-3)!.status, 'tagged');
  await s3.stop();
  await assert.rejects(handler(s3Event([{ bucket: BUCKET, key: 'a.png' }]), context()), /records failed/);
  assert.equal(lines.at(-1)!.transient, true);
});

test('S3 Batch Operations 1.0 and 2.0 get a results array', async (t) => {
  const { s3, handler } = await setup(t);
  await put(s3.client, 'dir/a b.png', baboonPhoto());
  await put(s3.client, 'bad.jpg', Buffer.from('nope'));
  const v1 = (await handler(
    {
      invocationSchemaVersion: '1.0',
      invocationId: 'inv1',
      job: { id: 'job1' },
      tasks: [{ taskId: 't1', s3Key: 'dir/a+b.png', s3VersionId: null, s3BucketArn: `arn:aws:s3:::${BUCKET}` }],
    },
    context(),
  )) as BatchResponse;
  assert.equal(v1.invocationSchemaVersion, '1.0');
  assert.equal(v1.invocationId, 'inv1');
  assert.equal(v1.treatResultAsFinalFailure, false);
  assert.deepEqual(
    v1.results.map((r) => [r.taskId, r.resultCode]),
    [['t1', 'Succeeded']],
  );
  const v2 = (await handler(
    {
      invocationSchemaVersion: '2.0',
      invocationId: 'inv2',
      job: { id: 'job2', userArguments: {} },
      tasks: [
        { taskId: 't2', s3Key: 'bad.jpg', s3VersionId: null, s3Bucket: BUCKET },
        { taskId: 't3', s3Key: 'x.jpg', s3Bucket: 'no-such-bucket' },
      ],
    },
    context(),
  )) as BatchResponse;
  assert.deepEqual(
    v2.results.map((r) => [r.taskId, r.resultCode]),
    [
      ['t2', 'PermanentFailure'],
      ['t3', 'PermanentFailure'],
    ],
  );
  assert.match(v2.results[0].resultString, /failed \(not-an-image\)/);
});

void FIXTURES;
