/** ONNX Runtime's threads in Lambda: the vCPUs a memory size buys (test/cases/lambda-vcpus.json, row by row). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lambdaVcpus, onnxThreads } from '../../src/handler/onnx-threads.js';
import table from '../cases/lambda-vcpus.json' with { type: 'json' };

for (const row of table.rows) {
  test(`${row.memoryMb} MB: ${row.vcpus} vCPU (intra-op threads)`, () => {
    assert.equal(lambdaVcpus(row.memoryMb), row.vcpus);
    assert.equal(onnxThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(row.memoryMb) }), row.vcpus);
  });
}

test('the table covers both ends of Lambda memory and every step from 1 to 6 vCPUs', () => {
  const sizes = table.rows.map((r) => r.memoryMb);
  assert.equal(Math.min(...sizes), 128);
  assert.equal(Math.max(...sizes), 10240);
  assert.deepEqual([...new Set(table.rows.map((r) => r.vcpus))].sort(), [1, 2, 3, 4, 5, 6]);
  assert.match(table.source, /^https:\/\/docs\.aws\.amazon\.com\/lambda\/latest\/dg\/configuration-memory\.html$/);
});

test('no memory setting (not in Lambda) or a bad one: one thread', () => {
  assert.equal(onnxThreads({}), 1);
  assert.equal(lambdaVcpus(Number.NaN), 1);
  assert.equal(lambdaVcpus(0), 1);
  assert.equal(onnxThreads({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'lots' }), 1);
});
