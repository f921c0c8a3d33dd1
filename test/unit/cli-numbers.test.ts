/** The flag-value parsers of src/cli/flag-values.ts, as tables: every bad value is one input error naming the flag. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aliasName, httpUrl, regionName, wholeNumber } from '../../src/cli/flag-values.js';
import { exitCodeFor, LambdaMlError } from '../../src/lib/errors.js';

const top = wholeNumber('--top', 1, 1000);

test('wholeNumber: whole numbers in range pass, as numbers', () => {
  for (const [text, want] of [
    ['1', 1],
    ['8', 8],
    ['1000', 1000],
    [' 12 ', 12],
    ['+5', 5],
    ['007', 7],
  ] as const) {
    assert.equal(top(text), want, text);
  }
});

test('wholeNumber: anything else is exit 2 naming the flag, the range and the value', () => {
  const bad = ['abc', '-3', '0', '1001', '2.5', '1e2', '0x10', '', ' ', 'NaN', 'Infinity', '12abc', '9007199254740993'];
  for (const text of bad) {
    assert.throws(
      () => top(text),
      (error: unknown) => {
        assert.ok(error instanceof LambdaMlError);
        assert.equal(exitCodeFor(error), 2);
        assert.equal(error.message, `--top must be a whole number from 1 to 1000 (got "${text}")`);
        assert.match(error.hint ?? '', /^e\.g\. --top \d+$/);
        return true;
      },
      text,
    );
  }
});

test('httpUrl: http(s) URLs pass; anything else says what is wrong', () => {
  const url = httpUrl('--endpoint-url');
  for (const ok of ['http://127.0.0.1:4566', 'https://s3.eu-west-1.amazonaws.com', 'http://localhost:9000/']) {
    assert.equal(url(ok), ok);
  }
  const cases = [
    ['notaurl', /^--endpoint-url is not a URL \(got "notaurl"\)$/],
    ['localhost:4566', /^--endpoint-url must use http:\/\/ or https:\/\/, not localhost:\/\//],
    ['ftp://example.com', /^--endpoint-url must use http:\/\/ or https:\/\/, not ftp:\/\//],
    ['', /^--endpoint-url is not a URL/],
  ] as const;
  for (const [value, message] of cases) assert.throws(() => url(value), { message }, value);
});

test('regionName and aliasName: names AWS accepts pass, others are exit 2 naming the flag', () => {
  const region = regionName('--region');
  for (const ok of ['eu-west-1', 'us-gov-west-1', 'ap-southeast-5', 'local']) assert.equal(region(ok), ok);
  for (const bad of ['eu west 1', 'EU-WEST-1', '-eu', 'eu-west-1/', '']) {
    assert.throws(() => region(bad), { message: /^--region ".*" is not an AWS region name$/ }, bad);
  }
  assert.throws(() => regionName('AWS_REGION')('x y'), { hint: 'e.g. AWS_REGION=eu-west-1' });
  const alias = aliasName('--alias');
  for (const ok of ['live', 'prod_2', 'v1-blue']) assert.equal(alias(ok), ok);
  for (const bad of ['my alias', '42', '', 'a'.repeat(129), 'ü']) {
    assert.throws(() => alias(bad), { message: /is not a Lambda alias name$/ }, bad);
  }
});
