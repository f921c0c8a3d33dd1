/** The Batch Operations 2.0 payload of one task, and how an invocation's outcome becomes the task's result. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchTaskEvent, readTaskResult, type InvocationOutcome } from '../../src/backfill/batch-event.js';
import { parseEvent } from '../../src/handler/event.js';

const TASK = { taskId: 'task-7', bucket: 'photos', key: 'shop/été plus+.jpg', versionId: null };

test('the event: schema 2.0, the job and UserArguments, one task, the key URL-encoded; the handler reads it', () => {
  const event = batchTaskEvent(TASK, { id: 'local-1', userArguments: { reclassify: 'stale' } });
  assert.equal(event.invocationSchemaVersion, '2.0');
  assert.match(event.invocationId, /^[A-Za-z0-9_-]{32}$/);
  assert.deepEqual(event.job, { id: 'local-1', userArguments: { reclassify: 'stale' } });
  assert.deepEqual(event.tasks, [
    { taskId: 'task-7', s3Bucket: 'photos', s3Key: 'shop/%C3%A9t%C3%A9%20plus%2B.jpg', s3VersionId: null },
  ]);
  const parsed = parseEvent(event);
  assert.equal(parsed.kind, 'batch');
  assert.deepEqual(
    parsed.records.map((r) => [r.bucket, r.key, r.taskId]),
    [['photos', 'shop/été plus+.jpg', 'task-7']],
  );
});

test('outcomes (cases as data): codes pass through; errors, missing and bad results are PermanentFailure', () => {
  const ok = (result: unknown): InvocationOutcome => ({ ok: true, result });
  const cases: [string, InvocationOutcome, string, RegExp][] = [
    [
      'succeeded',
      ok({ results: [{ taskId: 'task-7', resultCode: 'Succeeded', resultString: 'tagged' }] }),
      'Succeeded',
      /^tagged$/,
    ],
    [
      'temporary',
      ok({ results: [{ taskId: 'task-7', resultCode: 'TemporaryFailure', resultString: 'failed (SlowDown): slow' }] }),
      'TemporaryFailure',
      /SlowDown/,
    ],
    [
      'permanent',
      ok({ results: [{ taskId: 'task-7', resultCode: 'PermanentFailure', resultString: 'failed (decode): bad' }] }),
      'PermanentFailure',
      /decode/,
    ],
    [
      'function error',
      { ok: false, error: { type: 'Error', message: 'boom' } },
      'PermanentFailure',
      /^Lambda returned function error: \{"errorMessage":"boom","errorType":"Error"\}$/,
    ],
    [
      'timeout',
      { ok: false, error: { type: 'Sandbox.Timedout', message: 'Task timed out after 3.00 seconds' } },
      'PermanentFailure',
      /Task timed out after 3\.00 seconds/,
    ],
    [
      'another task',
      ok({ results: [{ taskId: 'other', resultCode: 'Succeeded' }] }),
      'PermanentFailure',
      /no result for this task/,
    ],
    [
      'treatMissingKeysAs',
      ok({ treatMissingKeysAs: 'TemporaryFailure', results: [] }),
      'TemporaryFailure',
      /no result/,
    ],
    [
      'bad code',
      ok({ results: [{ taskId: 'task-7', resultCode: 'Maybe' }] }),
      'PermanentFailure',
      /resultCode "Maybe"/,
    ],
    ['not an object', ok('hello'), 'PermanentFailure', /no result/],
  ];
  for (const [name, outcome, code, message] of cases) {
    const result = readTaskResult(outcome, 'task-7');
    assert.equal(result.code, code, name);
    assert.match(result.message, message, name);
  }
  assert.equal(
    readTaskResult(
      ok({ results: [{ taskId: 'task-7', resultCode: 'Succeeded', resultString: 'x'.repeat(2000) }] }),
      'task-7',
    ).message.length,
    1024,
  );
});
