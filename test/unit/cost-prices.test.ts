/** The price table: every section names its page and the date read; config overrides are checked by path. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PRICES, mergePrices } from '../../src/cost/prices.js';
import { LambdaMlError } from '../../src/lib/errors.js';

test('prices.json: us-east-1, USD, each section with its AWS page and a date, every price a number ≥ 0', () => {
  assert.equal(DEFAULT_PRICES.region, 'us-east-1');
  assert.equal(DEFAULT_PRICES.currency, 'USD');
  for (const section of [DEFAULT_PRICES.lambda, DEFAULT_PRICES.batchOperations, DEFAULT_PRICES.s3Requests]) {
    assert.match(section.source, /^https:\/\/aws\.amazon\.com\/(lambda|s3)\/pricing\/$/);
    assert.match(section.read, /^\d{4}-\d{2}-\d{2}$/);
  }
  const numbers = [
    DEFAULT_PRICES.lambda.x86_64.perGbSecond,
    DEFAULT_PRICES.lambda.arm64.perGbSecond,
    DEFAULT_PRICES.lambda.x86_64.perMillionRequests,
    DEFAULT_PRICES.batchOperations.perJob,
    DEFAULT_PRICES.batchOperations.perMillionObjectOperations,
    DEFAULT_PRICES.s3Requests.perThousandPut,
  ];
  assert.ok(numbers.every((n) => typeof n === 'number' && n >= 0));
  assert.ok(DEFAULT_PRICES.lambda.arm64.perGbSecond < DEFAULT_PRICES.lambda.x86_64.perGbSecond);
});

test('an override replaces only the numbers it gives', () => {
  const merged = mergePrices({
    region: 'eu-west-1',
    lambda: { arm64: { perGbSecond: 0.00001 }, read: '2027-01-01' },
    s3Requests: { perThousandPut: 0.0055 },
  });
  assert.equal(merged.region, 'eu-west-1');
  assert.equal(merged.lambda.arm64.perGbSecond, 0.00001);
  assert.equal(merged.lambda.arm64.perMillionRequests, DEFAULT_PRICES.lambda.arm64.perMillionRequests);
  assert.equal(merged.lambda.x86_64.perGbSecond, DEFAULT_PRICES.lambda.x86_64.perGbSecond);
  assert.equal(merged.lambda.read, '2027-01-01');
  assert.equal(merged.s3Requests.perThousandPut, 0.0055);
  assert.equal(merged.batchOperations.perJob, DEFAULT_PRICES.batchOperations.perJob);
  assert.equal(mergePrices(undefined), DEFAULT_PRICES);
});

test('bad overrides are config errors naming the path (cases as data)', () => {
  const rows: [unknown, RegExp, RegExp][] = [
    [[], /^cost\.prices must be an object, got \[\]$/, /shape/],
    [
      { lambda: { x86_64: { perGbSecond: -1 } } },
      /^cost\.prices\.lambda\.x86_64\.perGbSecond must be a price in USD \(a number ≥ 0\), got -1$/,
      /"perGbSecond": 0\.0000166667/,
    ],
    [{ lambda: { x86_64: { perGbSecond: '0.1' } } }, /perGbSecond must be a price/, /e\.g\./],
    [
      { batchOperations: { perObject: 1 } },
      /^cost\.prices\.batchOperations\.perObject is not a known key$/,
      /perMillionObjectOperations/,
    ],
    [{ lambda: { mips: {} } }, /^cost\.prices\.lambda\.mips is not a known key$/, /x86_64, arm64/],
    [{ s3Requests: { source: 5 } }, /^cost\.prices\.s3Requests\.source must be a string/, /page/],
  ];
  for (const [override, message, hint] of rows) {
    assert.throws(
      () => mergePrices(override),
      (error: LambdaMlError) => {
        assert.equal(error.code, 'config');
        assert.match(error.message, message);
        assert.match(error.hint ?? '', hint);
        return true;
      },
      message.source,
    );
  }
});
