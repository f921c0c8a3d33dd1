/** Report_CSV_20180820 rows (AWS's sample rows as fixtures), the report manifest, and failures grouped by reason. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReportCsv, parseReportManifest, reportLine, type ReportRow } from '../../src/backfill/report-csv.js';
import { failureLines, failureReason, groupFailures } from '../../src/backfill/failures.js';

// From https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-examples-reports.html
const AWS_FAILED =
  'awsexamplebucket1,image_14975,,failed,200,PermanentFailure,"Lambda returned function error: ' +
  '{""errorMessage"":""2019-04-05T17:35:21.155Z 2845ca0d-38d9-4c4b-abcf-379dc749c452 Task timed out after 3.00 ' +
  'seconds""}"';
const AWS_SUCCEEDED =
  "awsexamplebucket1,image_17775,,succeeded,200,,\"{u'CopySourceVersionId': 'xVR78haVKlRnurYofbTfYr3ufYbktF8h'}\"";
const AWS_MANIFEST =
  '{"Format":"Report_CSV_20180820","ReportCreationDate":"2019-04-05T17:48:39.725Z",' +
  '"Results":[{"TaskExecutionStatus":"succeeded","Bucket":"my-job-reports",' +
  '"MD5Checksum":"83b1c4cbe93fc893f54053697e10fd6e",' +
  '"Key":"job-f8fb9d89-a3aa-461d-bddc-ea6a1b131955/results/6217b0fab0de85c408b4be96aeaca9b195a7daa5.csv"}],' +
  '"ReportSchema":"Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"}';

test("AWS's sample rows: the HTTP status and the error code whichever order they come in; the message unquoted", () => {
  const [failed, succeeded] = parseReportCsv(`${AWS_FAILED}\n${AWS_SUCCEEDED}\n`);
  assert.deepEqual(
    { ...failed, resultMessage: undefined },
    {
      bucket: 'awsexamplebucket1',
      key: 'image_14975',
      versionId: null,
      taskStatus: 'failed',
      httpStatus: 200,
      errorCode: 'PermanentFailure',
      resultMessage: undefined,
    },
  );
  assert.equal(
    failed.resultMessage,
    'Lambda returned function error: {"errorMessage":"2019-04-05T17:35:21.155Z ' +
      '2845ca0d-38d9-4c4b-abcf-379dc749c452 Task timed out after 3.00 seconds"}',
  );
  assert.deepEqual([succeeded.taskStatus, succeeded.httpStatus, succeeded.errorCode], ['succeeded', 200, null]);
  const schemaOrder = parseReportCsv('b,k,v1,failed,AccessDenied,403,Access Denied\n')[0];
  assert.deepEqual([schemaOrder.versionId, schemaOrder.errorCode, schemaOrder.httpStatus], ['v1', 'AccessDenied', 403]);
  assert.equal(
    parseReportCsv('b,a%20b%2Bc.jpg,,failed,,PermanentFailure,x\n')[0].key,
    'a b+c.jpg',
    'keys are URL-encoded as in manifests',
  );
  assert.throws(() => parseReportCsv('b,k,,maybe,200,,x\n'), /line 1: TaskStatus "maybe"/);
  assert.throws(() => parseReportCsv('b,k\n'), /line 1: expected 7 fields/);
});

test('rows written by reportLine read back the same (quotes, commas, line breaks, encoded keys)', () => {
  const rows: ReportRow[] = [
    {
      bucket: 'b',
      key: 'a b,c.jpg',
      versionId: null,
      taskStatus: 'failed',
      errorCode: 'TemporaryFailure',
      httpStatus: 200,
      resultMessage: 'failed (SlowDown): "Please", reduce\nrate',
    },
    {
      bucket: 'b',
      key: 'ok.jpg',
      versionId: 'v2',
      taskStatus: 'succeeded',
      errorCode: null,
      httpStatus: 200,
      resultMessage: 'tagged: ml:category=cat',
    },
  ];
  assert.equal(reportLine(rows[1]), 'b,ok.jpg,v2,succeeded,200,,tagged: ml:category=cat');
  assert.deepEqual(parseReportCsv(rows.map((r) => `${reportLine(r)}\n`).join('')), rows);
});

test('the report manifest: AWS sample parses; anything else is refused', () => {
  assert.equal(parseReportManifest(AWS_MANIFEST).Results[0].TaskExecutionStatus, 'succeeded');
  assert.throws(() => parseReportManifest('{"Format":"Other","Results":[]}'), /not a Batch Operations report manifest/);
});

const row = (message: string, errorCode: string | null = 'PermanentFailure', key = 'k.jpg'): ReportRow => ({
  bucket: 'b',
  key,
  versionId: null,
  taskStatus: 'failed',
  errorCode,
  httpStatus: 200,
  resultMessage: message,
});

test("failure reasons (cases as data): the handler's own, a timeout, a function error, a templated message", () => {
  const cases: [string, string][] = [
    ['failed (decode): Input buffer contains unsupported image format', 'decode'],
    ['skipped (too-large): 30000000 bytes is over maxImageBytes (20971520)', 'too-large'],
    [JSON.parse(`"${AWS_FAILED.split(',"')[1].slice(0, -1).replace(/""/g, '\\"')}"`), 'Lambda timeout'],
    ['Lambda returned function error: {"errorMessage":"boom","errorType":"TypeError"}', 'function error TypeError'],
    [
      'Lambda returned function error: {"errorMessage":"request ' +
        '5f1c2d3e-1111-2222-3333-444455556666 failed after 3 tries"}',
      'function error: request <id> failed after N tries',
    ],
    ['Access Denied for 2024-01-02T03:04:05Z', 'Access Denied for <time>'],
    ['', 'PermanentFailure'],
  ];
  for (const [message, reason] of cases) assert.equal(failureReason(row(message)), reason, message);
});

test('groupFailures: failed rows only, biggest group first, three examples each; failureLines aligns counts', () => {
  const rows = [
    ...Array.from({ length: 1204 }, (_, i) => row('failed (decode): bad', 'PermanentFailure', `d${i}.jpg`)),
    row('failed (SlowDown): slow', 'TemporaryFailure', 's.jpg'),
    { ...row('tagged'), taskStatus: 'succeeded' as const, errorCode: null },
  ];
  const groups = groupFailures(rows);
  assert.deepEqual(
    groups.map((g) => [g.count, g.errorCode, g.reason, g.examples.length]),
    [
      [1204, 'PermanentFailure', 'decode', 3],
      [1, 'TemporaryFailure', 'SlowDown', 1],
    ],
  );
  assert.deepEqual(failureLines(groups), [
    '  1,204  PermanentFailure  decode  e.g. s3://b/d0.jpg, s3://b/d1.jpg, s3://b/d2.jpg',
    '      1  TemporaryFailure  SlowDown  e.g. s3://b/s.jpg',
  ]);
});
