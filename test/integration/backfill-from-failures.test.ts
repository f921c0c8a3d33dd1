/**
 * `backfill --from-failures`: the objects named by Lambda's on-failure records (asynchronous invocations that failed
 * every attempt), read back from an S3 destination on s3rver with the real @aws-sdk/client-s3, then fed to the same
 * manifest writer a job uses.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { listFailedObjects, objectsOfFailureRecord } from '../../src/backfill/from-failures.js';
import { emptyListingStats } from '../../src/backfill/manifest-list.js';
import { decodeManifestKey } from '../../src/backfill/manifest-csv.js';
import { writeManifestFile } from '../../src/backfill/manifest-write.js';
import { startS3, type S3Server } from '../helpers/s3rver.js';

const FAILURES = 'classifier-failures';
const FN = 'asset-classifier';
const ASSETS = 'dam-assets';

/** An on-failure record as Lambda writes it for an S3 event (the event keys URL-encoded, + for a space). */
function failureRecord(functionName: string, keys: string[], bucket = ASSETS): string {
  return JSON.stringify({
    version: '1.0',
    timestamp: '2026-12-01T10:00:00.000Z',
    requestContext: {
      requestId: 'c1a2b3',
      functionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}:live`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload: {
      Records: keys.map((key) => ({
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: bucket },
          object: { key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'), size: 1234 },
        },
      })),
    },
    responseContext: { statusCode: 200, executedVersion: '3', functionError: 'Unhandled' },
    responsePayload: { errorType: 'TimeoutError', errorMessage: 'SlowDown' },
  });
}

let s3: S3Server;
before(async () => {
  s3 = await startS3();
  await s3.client.send(new CreateBucketCommand({ Bucket: FAILURES }));
  const put = (key: string, body: string) =>
    s3.client.send(new PutObjectCommand({ Bucket: FAILURES, Key: key, Body: body }));
  await put(
    'aws/lambda/async/asset-classifier/2026/12/01/a.json',
    failureRecord(FN, ['images/cat photo.jpg', 'images/été.png']),
  );
  // the same object failed twice: backfilled once
  await put('aws/lambda/async/asset-classifier/2026/12/01/b.json', failureRecord(FN, ['images/cat photo.jpg']));
  // another function's failures and an object outside the prefix are not ours to re-drive
  await put('aws/lambda/async/other/2026/12/01/c.json', failureRecord('other', ['images/dog.jpg']));
  await put('aws/lambda/async/asset-classifier/2026/12/01/d.json', failureRecord(FN, ['thumbs/x.jpg', 'images/y.txt']));
  await put('README.txt', 'not a record');
});
after(() => s3.stop());

test("a failure record names its S3 objects, keys decoded; other functions' records name none", () => {
  const record = JSON.parse(failureRecord(FN, ['images/a b+c.jpg']));
  assert.deepEqual(objectsOfFailureRecord(record, FN), [{ bucket: ASSETS, key: 'images/a b+c.jpg', size: 1234 }]);
  assert.deepEqual(objectsOfFailureRecord(record, 'asset'), [], 'a prefix of the name is another function');
  assert.deepEqual(objectsOfFailureRecord({ hello: 1 }, FN), []);
});

test('listFailedObjects: each failed object once, within bucket, prefix and suffixes; as a CSV manifest', async (t) => {
  const stats = emptyListingStats();
  const source = { bucket: ASSETS, prefix: 'images/', suffixes: ['.jpg', '.png'] };
  const objects = [];
  for await (const object of listFailedObjects(s3.client, { bucket: FAILURES, functionName: FN }, source, { stats }))
    objects.push(object);
  assert.deepEqual(objects.map((o) => o.key).sort(), ['images/cat photo.jpg', 'images/été.png']);
  assert.equal(stats.listed, 5, 'every object in the failure bucket was read');
  assert.equal(stats.matched, 2);
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-failures-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  async function* again() {
    yield* listFailedObjects(s3.client, { bucket: FAILURES, functionName: FN }, source);
  }
  const file = await writeManifestFile(join(dir, 'manifest.csv'), again());
  const rows = (await readFile(file.path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => line.split(','));
  assert.deepEqual(rows.map(([bucket, key]) => [bucket, decodeManifestKey(key)]).sort(), [
    [ASSETS, 'images/cat photo.jpg'],
    [ASSETS, 'images/été.png'],
  ]);
});
