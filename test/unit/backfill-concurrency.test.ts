/** The job's concurrency from the function's reserved concurrency and backfill.maxConcurrency; the loopback client. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobSeconds, planConcurrency } from '../../src/backfill/concurrency.js';
import { loopbackEndpoint } from '../../src/backfill/s3control-client.js';

test('planConcurrency (cases as data)', () => {
  const cases: [string, Parameters<typeof planConcurrency>[0], number | null, number | null, RegExp][] = [
    [
      'maxConcurrency sets it',
      { reserved: null, maxConcurrency: 50 },
      50,
      50,
      /reserved concurrency is set to 50 \(it was none\); the trigger shares this limit/,
    ],
    ['maxConcurrency changes it', { reserved: 10, maxConcurrency: 50 }, 50, 50, /set to 50 \(it was 10\)/],
    ['already set', { reserved: 50, maxConcurrency: 50 }, 50, null, /at most 50 tasks at once/],
    [
      'reserved only',
      { reserved: 20, maxConcurrency: null },
      20,
      null,
      /at most 20 tasks at once \(the function's reserved concurrency\)/,
    ],
    [
      'nothing reserved',
      { reserved: null, maxConcurrency: null, unreserved: 900 },
      900,
      null,
      /unreserved concurrency \(900 in this account\).*backfill\.maxConcurrency/,
    ],
  ];
  for (const [name, input, limit, setReserved, note] of cases) {
    const plan = planConcurrency(input);
    assert.equal(plan.limit, limit, name);
    assert.equal(plan.setReserved, setReserved, name);
    assert.match(plan.note, note, name);
  }
  assert.throws(() => planConcurrency({ reserved: null, maxConcurrency: 0 }), /whole number ≥ 1/);
  assert.equal(jobSeconds(1_000_000, 250, 100), 2500);
});

test('loopback endpoints become localhost (the SDK prefixes the account); others are left alone', () => {
  assert.deepEqual(loopbackEndpoint('http://127.0.0.1:4566'), {
    endpoint: 'http://localhost:4566',
    address: '127.0.0.1',
    family: 4,
  });
  assert.deepEqual(loopbackEndpoint('http://localhost:9000/'), {
    endpoint: 'http://localhost:9000',
    address: '127.0.0.1',
    family: 4,
  });
  assert.deepEqual(loopbackEndpoint('http://[::1]:4566'), {
    endpoint: 'http://localhost:4566',
    address: '::1',
    family: 6,
  });
  assert.equal(loopbackEndpoint('https://s3-control.us-east-1.amazonaws.com'), null);
  assert.equal(loopbackEndpoint('http://localhost.localstack.cloud:4566'), null);
  assert.equal(loopbackEndpoint('not a url'), null);
});
