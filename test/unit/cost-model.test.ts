/** The cost model from literal prices and timings: duration, requests, Batch Operations fees, S3 requests. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costPerMillion, estimateBothArchitectures, estimateCost } from '../../src/cost/model.js';
import { costTable, formatUsd } from '../../src/cost/format.js';
import type { PriceTable } from '../../src/cost/prices.js';
import { imageTime } from '../../src/cost/timing.js';
import { MB_PER_VCPU, scaleToMemory, vcpuShare } from '../../src/cost/vcpu.js';

const PRICES: PriceTable = {
  region: 'us-east-1',
  currency: 'USD',
  lambda: {
    source: 'test',
    read: 'test',
    x86_64: { perGbSecond: 0.0000166667, perMillionRequests: 0.2 },
    arm64: { perGbSecond: 0.0000133334, perMillionRequests: 0.2 },
  },
  batchOperations: {
    source: 'test',
    read: 'test',
    perJob: 0.25,
    perMillionObjectOperations: 1,
    perMillionObjectsListed: 0.015,
  },
  s3Requests: { source: 'test', read: 'test', perThousandGet: 0.0004, perThousandPut: 0.005, perThousandList: 0.005 },
};

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

test('1,000,000 images at 2,048 MB and 120.4 ms (billed 121 ms) on x86_64, manifest generator', () => {
  const e = costPerMillion({ memoryMb: 2048, msPerImage: 120.4, architecture: 'x86_64' }, PRICES);
  const usd = Object.fromEntries(e.lines.map((l) => [l.item, l.usd]));
  const quantity = Object.fromEntries(e.lines.map((l) => [l.item, l.quantity]));
  close(quantity['Lambda duration (2048 MB × 121 ms)'], 242_000, 'GB-s');
  close(usd['Lambda duration (2048 MB × 121 ms)'], 242_000 * 0.0000166667, 'duration');
  close(usd['Lambda requests'], 0.2, 'requests');
  close(usd['Batch Operations jobs'], 0.25, 'job');
  close(usd['Batch Operations object operations'], 1, 'objects');
  close(usd['Batch Operations manifest generator'], 0.015, 'generator');
  close(usd['S3 GET/HEAD/GetObjectTagging (3 per image)'], 1.2, 'GET');
  close(usd['S3 PutObjectTagging (1 per image)'], 5, 'PUT');
  close(e.totalUsd, 242_000 * 0.0000166667 + 0.2 + 0.25 + 1 + 0.015 + 1.2 + 5, 'total');
  close(e.perImageUsd, e.totalUsd / 1e6, 'per image');
});

test('a job: arm64 prices, a CSV manifest (LIST pages of 1,000), cold starts billed, a results sidecar PUT', () => {
  const e = estimateCost(
    {
      objects: 25_000,
      listed: 40_500,
      memoryMb: 1024,
      msPerImage: 300,
      architecture: 'arm64',
      manifest: 'csv',
      requestsPerImage: { get: 3, put: 2 },
      coldStarts: { count: 10, initMs: 2500.2 },
    },
    PRICES,
  );
  const usd = Object.fromEntries(e.lines.map((l) => [l.item, l.usd]));
  close(usd['Lambda duration (1024 MB × 300 ms)'], 25_000 * 0.3 * 1 * 0.0000133334, 'duration');
  close(usd['Lambda init (10 cold starts)'], 10 * 2.501 * 0.0000133334, 'init');
  close(usd['S3 LIST (CSV manifest)'], (41 / 1000) * 0.005, '41 LIST requests');
  close(usd['S3 PutObjectTagging (2 per image)'], 50 * 0.005, 'PUT');
  assert.ok(!('Batch Operations manifest generator' in usd));
  const none = estimateCost(
    { objects: 10, memoryMb: 512, msPerImage: 1, architecture: 'x86_64', manifest: 'none' },
    PRICES,
  );
  assert.ok(!none.lines.some((l) => /manifest/.test(l.item)));
  assert.throws(
    () => estimateCost({ objects: -1, memoryMb: 512, msPerImage: 1, architecture: 'x86_64' }, PRICES),
    /objects ≥ 0/,
  );
});

test('vCPU share: 1 vCPU per 1,769 MB; a time measured on one CPU slows below it and stays above it', () => {
  assert.equal(MB_PER_VCPU, 1769);
  const cases: [number, number, number][] = [
    [1769, 100, 100],
    [884.5, 100, 200],
    [128, 100, (100 * 1769) / 128],
    [3538, 100, 100],
    [10240, 80, 80],
  ];
  for (const [memory, ms, expected] of cases) close(scaleToMemory(ms, memory), expected, `${memory} MB`);
  close(vcpuShare(10240), 10240 / 1769, 'share');
});

test('time per image: measured (labelled with the scaling) or estimated (labelled so, and how to measure)', () => {
  const measured = imageTime({ memoryMb: 1024, models: 1, measured: { p50Ms: 150 } });
  close(measured.ms, (150 * 1769) / 1024, 'scaled');
  assert.equal(measured.estimated, false);
  assert.equal(measured.label, 'measured: warm p50 150 ms on 1 CPU, scaled to 0.58 vCPU at 1024 MB');
  const estimated = imageTime({ memoryMb: 2048, models: 2, measured: null });
  assert.equal(estimated.msOnOneCpu, 220);
  assert.equal(estimated.ms, 220);
  assert.equal(estimated.estimated, true);
  assert.match(
    estimated.label,
    /^estimated: 220 ms on 1 CPU for 2 model\(s\), scaled to 1\.00 vCPU at 2048 MB; run invoke --local --repeat/,
  );
});

test('both architectures side by side; arm64 labelled estimated when timed on x86_64; the table', () => {
  const both = estimateBothArchitectures({ objects: 1_000_000, memoryMb: 2048, msPerImage: 100 }, PRICES);
  assert.deepEqual(
    both.map((e) => [e.architecture, e.timeEstimated]),
    [
      ['x86_64', false],
      ['arm64', true],
    ],
  );
  assert.ok(both[1].totalUsd < both[0].totalUsd);
  const table = costTable(both);
  assert.match(table[0], /x86_64\s+arm64 \(est\.\)$/);
  assert.match(table[1], /^Lambda duration\s+\$3\.33\s+\$2\.67$/);
  assert.match(table[table.length - 1], /^total\s+\$11\.00\s+\$10\.33$/);
  const cases: [number, string][] = [
    [0, '$0.00'],
    [0.0042, '$0.0042'],
    [1234.567, '$1,234.57'],
    [5, '$5.00'],
  ];
  for (const [usd, text] of cases) assert.equal(formatUsd(usd), text);
});
