/**
 * The object list and the completion report against s3rver on loopback with the real @aws-sdk/client-s3: the
 * ListObjectsV2 listing, the CSV manifest (keys URL-encoded) written, uploaded and read back, and reports in Batch
 * Operations' layout (AWS's own sample rows included) read and grouped. (s3rver's continuation tokens use DES,
 * which OpenSSL 3 refuses, so listings of more than one page are tested in test/unit/backfill-manifest.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseCsv } from '../../src/backfill/csv.js';
import { emptyListingStats, listBackfillObjects } from '../../src/backfill/manifest-list.js';
import { decodeManifestKey } from '../../src/backfill/manifest-csv.js';
import { manifestKey, uploadManifest, writeManifestFile } from '../../src/backfill/manifest-write.js';
import { readCompletionReport } from '../../src/backfill/report-read.js';
import { failureLines, groupFailures } from '../../src/backfill/failures.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { startS3, type S3Server } from '../helpers/s3rver.js';

const BUCKET = 'backfill-source';
const REPORTS = 'backfill-artifacts';
/** Keys that break naive CSV or URL handling. */
const AWKWARD = [
  'photos/with space.jpg',
  'photos/plus+sign.jpg',
  'photos/comma,and"quote.jpg',
  'photos/été 🌞.jpg',
  'photos/percent%20literal.jpg',
  'photos/semi;colon&amp.jpg',
];
const BULK = Array.from({ length: 23 }, (_, i) => `photos/bulk/${String(i).padStart(4, '0')}.jpg`);

let s3: S3Server;
let dir: string;

before(async () => {
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'lambda-ml-backfill-manifest-'));
  for (const bucket of [BUCKET, REPORTS]) await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const keys = [...AWKWARD, ...BULK, 'photos/readme.txt', 'photos/folder/', 'elsewhere/x.jpg'];
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(
      keys.slice(i, i + 50).map((key) =>
        s3.client.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: key,
            Body: key.endsWith('/') ? '' : `body of ${key}`,
            ContentLength: key.endsWith('/') ? 0 : undefined,
          }),
        ),
      ),
    );
  }
});
after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('ListObjectsV2: the prefix and suffix filter keep the images, folder markers and other files drop', async () => {
  const stats = emptyListingStats();
  const objects = [];
  for await (const object of listBackfillObjects(
    s3.client,
    { bucket: BUCKET, prefix: 'photos/', suffixes: ['.jpg'] },
    { stats },
  ))
    objects.push(object);
  assert.equal(objects.length, AWKWARD.length + BULK.length);
  assert.deepEqual(new Set(objects.map((o) => o.key)), new Set([...AWKWARD, ...BULK]));
  assert.equal(stats.requests, 1);
  assert.equal(stats.listed, AWKWARD.length + BULK.length + 2);
  assert.equal(
    stats.bytes,
    objects.reduce((sum, o) => sum + o.size, 0),
  );
});

test('a missing bucket is one AWS error naming it', async () => {
  const listing = async () => {
    const source = { bucket: 'no-such-bucket', prefix: '', suffixes: [] };
    for await (const _ of listBackfillObjects(s3.client, source)) {
      /* none */
    }
  };
  await assert.rejects(listing, (error: LambdaMlError) => {
    assert.equal(error.code, 'aws');
    assert.match(error.message, /^listing s3:\/\/no-such-bucket\/ failed: NoSuchBucket/);
    return true;
  });
});

test('the CSV manifest: a bucket,key row per object, keys URL-encoded, uploaded by content with its ETag', async () => {
  const objects = listBackfillObjects(s3.client, { bucket: BUCKET, prefix: 'photos/', suffixes: ['.jpg'] });
  const file = await writeManifestFile(join(dir, 'manifest.csv'), objects);
  const text = await readFile(file.path, 'utf8');
  assert.equal(file.sha256, createHash('sha256').update(text).digest('hex'));
  assert.equal(file.objects, AWKWARD.length + BULK.length);
  const lines = text.trimEnd().split('\n');
  assert.ok(
    lines.every((line) => /^backfill-source,[A-Za-z0-9\-_.!~*'()%/]+$/.test(line)),
    'no raw space, comma, quote or + in a row',
  );
  assert.ok(lines.includes('backfill-source,photos/with%20space.jpg'));
  assert.ok(lines.includes('backfill-source,photos/plus%2Bsign.jpg'));
  assert.ok(lines.includes('backfill-source,photos/comma%2Cand%22quote.jpg'));
  assert.ok(lines.includes('backfill-source,photos/percent%2520literal.jpg'));
  const rows = parseCsv(text);
  assert.deepEqual(new Set(rows.map(([, key]) => decodeManifestKey(key))), new Set([...AWKWARD, ...BULK]));

  const key = manifestKey('lambda-ml/', file.sha256);
  assert.equal(key, `lambda-ml/backfill/manifests/${file.sha256}.csv`);
  const uploaded = await uploadManifest(s3.client, file, { bucket: REPORTS, key });
  assert.equal(uploaded.objectArn, `arn:aws:s3:::${REPORTS}/${key}`);
  assert.equal(
    uploaded.etag,
    createHash('md5').update(text).digest('hex'),
    'a single-part upload: the ETag is the MD5',
  );
  assert.equal(file.md5, uploaded.etag, 'so --dry-run can print the ETag before uploading');
  const back = await (
    await s3.client.send(new GetObjectCommand({ Bucket: REPORTS, Key: key }))
  ).Body!.transformToString('utf8');
  assert.equal(back, text);
  const again = await writeManifestFile(
    join(dir, 'again.csv'),
    listBackfillObjects(s3.client, { bucket: BUCKET, prefix: 'photos/', suffixes: ['.jpg'] }),
  );
  assert.equal(
    again.sha256,
    file.sha256,
    'the same listing gives the same manifest, so a retried command sends the same request',
  );
});

/** AWS's sample rows (batch-ops-examples-reports) and rows of the lambda-ml handler. */
const SAMPLE_FAILED = [
  'awsexamplebucket1,image_14975,,failed,200,PermanentFailure,"Lambda returned function error: ' +
    '{""errorMessage"":""2019-04-05T17:35:21.155Z 2845ca0d-38d9-4c4b-abcf-379dc749c452 Task timed out after 3.00 ' +
    'seconds""}"',
  'awsexamplebucket1,image_15897,,failed,200,PermanentFailure,"Lambda returned function error: ' +
    '{""errorMessage"":""2019-04-05T17:35:29.610Z 2d0a330b-de9b-425f-b511-29232fde5fe4 Task timed out after 3.00 ' +
    'seconds""}"',
  'backfill-source,photos/with%20space.jpg,,failed,200,PermanentFailure,failed ' +
    '(decode): Input buffer contains unsupported image format',
  'backfill-source,photos/plus%2Bsign.jpg,,failed,200,TemporaryFailure,' +
    '"failed (SlowDown): Please reduce your request rate."',
].join('\n');
const SAMPLE_SUCCEEDED =
  "awsexamplebucket1,image_17775,,succeeded,200,,\"{u'CopySourceVersionId': " +
  "'xVR78haVKlRnurYofbTfYr3ufYbktF8h', u'ETag': '\"\"fe66f4390c50f29798f040d7aae72784\"\"'}\"\n";

async function putReport(prefixKey: string, jobId: string) {
  const results = [];
  for (const [status, body] of [
    ['failed', `${SAMPLE_FAILED}\n`],
    ['succeeded', SAMPLE_SUCCEEDED],
  ] as const) {
    const key = `${prefixKey}job-${jobId}/results/${status}.csv`;
    await s3.client.send(new PutObjectCommand({ Bucket: REPORTS, Key: key, Body: body }));
    results.push({
      TaskExecutionStatus: status,
      Bucket: REPORTS,
      MD5Checksum: createHash('md5').update(body).digest('hex'),
      Key: key,
    });
  }
  const manifest = {
    Format: 'Report_CSV_20180820',
    ReportCreationDate: '2019-04-05T17:48:39.725Z',
    Results: results,
    ReportSchema: 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage',
  };
  await s3.client.send(
    new PutObjectCommand({
      Bucket: REPORTS,
      Key: `${prefixKey}job-${jobId}/manifest.json`,
      Body: JSON.stringify(manifest),
    }),
  );
}

test('the completion report: manifest.json, then each result CSV; keys decoded; failures grouped', async () => {
  const jobId = 'f8fb9d89-a3aa-461d-bddc-ea6a1b131955';
  await putReport('reports/', jobId);
  const rows = await readCompletionReport(s3.client, { bucket: REPORTS, prefix: 'reports', jobId });
  assert.equal(rows.length, 5);
  const timeout = rows[0];
  assert.deepEqual(
    [timeout.bucket, timeout.key, timeout.versionId, timeout.taskStatus, timeout.httpStatus, timeout.errorCode],
    ['awsexamplebucket1', 'image_14975', null, 'failed', 200, 'PermanentFailure'],
  );
  assert.match(
    timeout.resultMessage,
    new RegExp(
      [
        String.raw`^Lambda returned function error: `,
        String.raw`\{"errorMessage":"2019-04-05T17:35:21.155Z .* Task timed out after 3.00 seconds"\}$`,
      ].join(''),
    ),
  );
  assert.ok(rows.some((r) => r.key === 'photos/with space.jpg'));
  assert.ok(rows.some((r) => r.key === 'photos/plus+sign.jpg' && r.errorCode === 'TemporaryFailure'));
  const succeeded = rows.find((r) => r.taskStatus === 'succeeded')!;
  assert.equal(succeeded.errorCode, null);
  assert.match(succeeded.resultMessage, /'"fe66f4390c50f29798f040d7aae72784"'/);
  const groups = groupFailures(rows);
  assert.deepEqual(
    groups.map((g) => [g.count, g.errorCode, g.reason]),
    [
      [2, 'PermanentFailure', 'Lambda timeout'],
      [1, 'PermanentFailure', 'decode'],
      [1, 'TemporaryFailure', 'SlowDown'],
    ],
  );
  assert.match(
    failureLines(groups)[0],
    /^ {2}2 {2}PermanentFailure {2}Lambda timeout {2}e\.g\. s3:\/\/awsexamplebucket1\/image_14975, s3:\/\/awsex/,
  );
});

test('a report not under <prefix>/job-<id>/ is found by listing; a job without a report has no rows', async () => {
  const jobId = '2d0a330b-de9b-425f-b511-29232fde5fe4';
  await putReport('nested/deeper/', jobId);
  const rows = await readCompletionReport(s3.client, { bucket: REPORTS, prefix: 'nested', jobId });
  assert.equal(rows.length, 5);
  assert.deepEqual(
    await readCompletionReport(s3.client, { bucket: REPORTS, prefix: 'reports', jobId: 'no-tasks-ran' }),
    [],
  );
});
