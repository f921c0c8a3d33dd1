/** Awaits a promise that must reject with a LambdaMlError, and returns that error. */
import assert from 'node:assert/strict';
import { LambdaMlError } from '../../src/lib/errors.js';

export async function rejection(promise: Promise<unknown>): Promise<LambdaMlError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LambdaMlError, `expected a LambdaMlError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected deploy to fail');
}
