/** ClientRequestToken: the same job gives the same token; what makes another job gives another. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backfillToken, type TokenInputs } from '../../src/backfill/request-token.js';

const BASE: TokenInputs = {
  bucket: 'photos',
  prefix: 'shop/',
  suffixes: ['.jpg', '.png'],
  functionVersion: '7',
  modelSha256: ['AA11', 'bb22'],
  manifestSha256: null,
  userArguments: { reclassify: 'stale', models: 'abc' },
};

test("the token is 64 hex characters (CreateJob's maximum) and ignores order and case where they mean nothing", () => {
  const token = backfillToken(BASE);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(backfillToken({ ...BASE, suffixes: ['.png', '.jpg', '.jpg'] }), token);
  assert.equal(backfillToken({ ...BASE, modelSha256: ['BB22', 'aa11'] }), token);
  assert.equal(backfillToken({ ...BASE, userArguments: { models: 'abc', reclassify: 'stale' } }), token);
});

test('each input that changes the job changes the token', () => {
  const token = backfillToken(BASE);
  const changes: [string, Partial<TokenInputs>][] = [
    ['bucket', { bucket: 'other' }],
    ['prefix', { prefix: 'shop/2024/' }],
    ['suffixes', { suffixes: ['.jpg'] }],
    ['function version', { functionVersion: '8' }],
    ['a model update', { modelSha256: ['aa11', 'cc33'] }],
    ['a CSV manifest', { manifestSha256: 'f'.repeat(64) }],
    ['--force', { userArguments: { reclassify: 'all', models: 'abc' } }],
  ];
  const seen = new Set([token]);
  for (const [name, change] of changes) {
    const other = backfillToken({ ...BASE, ...change });
    assert.ok(!seen.has(other), name);
    seen.add(other);
  }
});
