/** PURE: the handler's CloudWatch EMF line, its Batch Operations answers, and the models tag's place among our tags. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchResult } from '../../src/handler/batch-result.js';
import { metricsLine } from '../../src/handler/metrics.js';
import { buildTags, holdsCurrentResults, mergeTags } from '../../src/handler/tags.js';

test('the EMF line follows the specification: _aws metadata, one dimension set, every metric a root member', () => {
  const results = [
    { status: 'tagged', timings: { infer: { nsfw: 61, style: 30 } } },
    { status: 'tagged', timings: { infer: { nsfw: 59 } } },
    { status: 'skipped', reason: 'current', timings: {} },
    { status: 'skipped', reason: 'not-an-image', timings: {} },
    { status: 'failed', reason: 'SlowDown', timings: { infer: { nsfw: 70 } } },
  ] as const;
  const line = metricsLine(results, {
    functionName: 'asset-classifier',
    models: ['nsfw', 'style', 'unused'],
    kind: 'batch',
    now: 1_700_000_000_000,
  });
  const aws = line._aws as {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  assert.equal(aws.Timestamp, 1_700_000_000_000);
  assert.equal(aws.CloudWatchMetrics.length, 1);
  const [directive] = aws.CloudWatchMetrics;
  assert.equal(directive.Namespace, 'lambda-ml');
  assert.deepEqual(directive.Dimensions, [['FunctionName']]);
  assert.deepEqual(directive.Metrics, [
    { Name: 'Tagged', Unit: 'Count' },
    { Name: 'Current', Unit: 'Count' },
    { Name: 'Skipped', Unit: 'Count' },
    { Name: 'Failed', Unit: 'Count' },
    { Name: 'InferenceMs.nsfw', Unit: 'Milliseconds' },
    { Name: 'InferenceMs.style', Unit: 'Milliseconds' },
  ]);
  // Every dimension and metric is a root member: a string dimension value, numbers (or up to 100 of them).
  assert.equal(line.FunctionName, 'asset-classifier');
  assert.deepEqual([line.Tagged, line.Current, line.Skipped, line.Failed], [2, 1, 1, 1]);
  assert.deepEqual(line['InferenceMs.nsfw'], [61, 59, 70]);
  assert.equal(line['InferenceMs.style'], 30);
  assert.equal(line['InferenceMs.unused'], undefined, 'no value, no metric');
  for (const m of directive.Metrics) {
    const v = line[m.Name];
    assert.ok(
      typeof v === 'number' || (Array.isArray(v) && v.length <= 100 && v.every((x) => typeof x === 'number')),
      m.Name,
    );
  }
  assert.ok(JSON.stringify(line).length < 256 * 1024, 'under the 256 KB log event limit');
  const many = metricsLine(
    Array.from({ length: 150 }, () => ({ status: 'tagged', timings: { infer: { m: 1 } } }) as const),
    { functionName: '', models: ['m'], kind: 's3' },
  );
  assert.equal((many['InferenceMs.m'] as number[]).length, 100);
  assert.equal(many.FunctionName, 'unknown', 'a dimension value is never empty');
});

test('batchResult: the result code and string of each outcome', () => {
  const cases = [
    [{ status: 'tagged', tags: [{ Key: 'ml:nsfw', Value: 'Neutral' }] }, 'Succeeded', 'tagged: ml:nsfw=Neutral'],
    [{ status: 'skipped', reason: 'current', message: 'm' }, 'Succeeded', 'skipped (current): m'],
    [{ status: 'skipped', reason: 'not-found', message: 'gone' }, 'Succeeded', 'skipped (not-found): gone'],
    [{ status: 'skipped', reason: 'not-an-image', message: 'x' }, 'PermanentFailure', 'failed (not-an-image): x'],
    [{ status: 'skipped', reason: 'too-large', message: 'x' }, 'PermanentFailure', 'failed (too-large): x'],
    [
      { status: 'failed', reason: 'AccessDenied', message: 'no', transient: false },
      'PermanentFailure',
      'failed (AccessDenied): no',
    ],
    [
      { status: 'failed', reason: 'SlowDown', message: 'slow', transient: true },
      'TemporaryFailure',
      'failed (SlowDown): slow',
    ],
    [
      { status: 'failed', reason: 'deadline', message: 'late', transient: true },
      'TemporaryFailure',
      'failed (deadline): late',
    ],
  ] as const;
  for (const [record, code, text] of cases)
    assert.deepEqual(batchResult(record as Parameters<typeof batchResult>[0]), {
      resultCode: code,
      resultString: text,
    });
  assert.equal(batchResult({ status: 'failed', reason: 'E', message: 'x'.repeat(2000) }).resultString.length, 1024);
});

test('the models tag comes right after the top-1 tags, never overwrites a user tag, and marks current results', () => {
  const models = [
    { tag: 'nsfw', top: [{ label: 'Neutral', score: 0.9 }] },
    { tag: 'style', top: [{ label: 'flat', score: 0.8 }] },
  ];
  const ours = buildTags(models, ['white'], 'ml:', '3f9a1c2e');
  assert.deepEqual(
    ours.map((t) => t.Key),
    ['ml:nsfw', 'ml:style', 'ml:models', 'ml:colors', 'ml:nsfw:top', 'ml:style:top'],
  );
  const user = Array.from({ length: 7 }, (_, i) => ({ Key: `u${i}`, Value: 'v' }));
  const merged = mergeTags(user, ours, 'ml:');
  assert.deepEqual(
    merged.tags.slice(7).map((t) => t.Key),
    ['ml:nsfw', 'ml:style', 'ml:models'],
  );
  assert.ok(holdsCurrentResults(merged.tags, 'ml:', '3f9a1c2e'));
  assert.ok(!holdsCurrentResults(merged.tags, 'ml:', '00000000'), 'another model version is stale');
  const collide = mergeTags([{ Key: 'models', Value: 'mine' }], buildTags(models, [], '', 'abc'), '');
  assert.equal(collide.tags.find((t) => t.Key === 'models')?.Value, 'mine', "a user's tag wins");
  assert.ok(!holdsCurrentResults([{ Key: 'models', Value: 'abc' }], '', 'abc'), 'without a prefix, never current');
  assert.deepEqual(
    buildTags(models, [], 'ml:')
      .map((t) => t.Key)
      .includes('ml:models'),
    false,
    'no hash, no tag',
  );
});
