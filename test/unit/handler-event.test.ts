import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchResponse, decodeS3Key, parseEvent } from '../../src/handler/event.js';
import { topK } from '../../src/handler/classify.js';
import { dominantColors, nearestCssName } from '../../src/handler/colors.js';
import { CSS_COLORS } from '../../src/handler/css-colors.js';
import { isNotFound, isTransient } from '../../src/handler/s3.js';

test('S3 keys: + is a space, %XX is UTF-8', () => {
  assert.equal(decodeS3Key('photos/mon+chat+%C3%A9t%C3%A9.jpg'), 'photos/mon chat été.jpg');
  assert.equal(decodeS3Key('a%2Bb.jpg'), 'a+b.jpg');
  assert.equal(decodeS3Key('bad%E0%A4%A.jpg'), 'bad%E0%A4%A.jpg');
});

test('S3 notification: created objects only', () => {
  const parsed = parseEvent({
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'b' }, object: { key: 'x+y.jpg', size: 3, versionId: 'v1' } },
      },
      { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'gone.jpg' } } },
    ],
  });
  assert.equal(parsed.kind, 's3');
  assert.deepEqual(parsed.records, [{ bucket: 'b', key: 'x y.jpg', versionId: 'v1', size: 3, taskId: null }]);
  assert.equal(parsed.kind === 's3' && parsed.ignored, 1);
});

test('Batch Operations 1.0 (bucket ARN) and 2.0 (bucket name); response shape', () => {
  const v1 = parseEvent({
    invocationSchemaVersion: '1.0',
    invocationId: 'i',
    job: { id: 'j' },
    tasks: [{ taskId: 't', s3Key: 'a%20b.jpg', s3VersionId: null, s3BucketArn: 'arn:aws:s3:::bkt' }],
  });
  assert.deepEqual(v1.records[0], { bucket: 'bkt', key: 'a b.jpg', versionId: null, size: null, taskId: 't' });
  const v2 = parseEvent({
    invocationSchemaVersion: '2.0',
    invocationId: 'i2',
    job: { id: 'j', userArguments: {} },
    tasks: [{ taskId: 't2', s3Key: 'k', s3VersionId: 'v', s3Bucket: 'bkt2' }],
  });
  assert.equal(v2.records[0].bucket, 'bkt2');
  assert.equal(v2.kind, 'batch');
  if (v2.kind !== 'batch') return;
  assert.deepEqual(batchResponse(v2, [{ taskId: 't2', resultCode: 'Succeeded', resultString: 'ok' }]), {
    invocationSchemaVersion: '2.0',
    treatMissingKeysAs: 'PermanentFailure',
    treatResultAsFinalFailure: false,
    invocationId: 'i2',
    results: [{ taskId: 't2', resultCode: 'Succeeded', resultString: 'ok' }],
  });
  assert.throws(() => parseEvent({ hello: 1 }), /unsupported event/);
});

test('topK sorts, cuts and applies the threshold; missing labels are named by index', () => {
  assert.deepEqual(topK([0.1, 0.7, 0.2], ['a', 'b'], 2), [
    { label: 'b', score: 0.7 },
    { label: 'class_2', score: 0.2 },
  ]);
  assert.deepEqual(
    topK([0.1, 0.7, 0.2], ['a', 'b', 'c'], 3, 0.15).map((p) => p.label),
    ['b', 'c'],
  );
});

test('colours: CSS table, nearest names, proportions', () => {
  assert.equal(CSS_COLORS.length, 148);
  assert.equal(nearestCssName(255, 0, 0), 'red');
  assert.equal(nearestCssName(0, 0, 0), 'black');
  assert.equal(nearestCssName(128, 128, 128), 'gray');
  const px = new Uint8Array(4 * 100);
  for (let i = 0; i < 100; i++) px.set(i < 75 ? [250, 250, 250, 255] : [10, 10, 200, 255], i * 4);
  const colors = dominantColors(px, 4, 3);
  assert.deepEqual(
    colors.map((c) => c.name),
    ['white', 'mediumblue'],
  );
  assert.equal(colors[0].proportion, 0.75);
  assert.equal(colors[0].hex, '#fafafa');
});

test('AWS error classes: transient vs permanent vs gone', () => {
  assert.equal(isTransient({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), true);
  assert.equal(isTransient({ name: 'InternalError', $metadata: { httpStatusCode: 500 } }), true);
  assert.equal(isTransient(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isTransient({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }), false);
  assert.equal(isTransient({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }), false);
  assert.equal(isNotFound({ name: 'NoSuchKey' }), true);
  assert.equal(isNotFound({ name: 'NoSuchBucket' }), false);
});
