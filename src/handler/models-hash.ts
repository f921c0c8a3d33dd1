/**
 * The short hash of the models a function ships (docs/backfill.md, "UserArguments"): the first 8 hex characters of
 * the sha256 of every model file's sha256, sorted and de-duplicated. A backfill job sends it as `models`; the handler
 * computes the same from lambda-ml.runtime.json and writes it as the `<prefix>models` tag, so a later run can tell
 * current results from stale ones (docs/handler.md, "Results").
 */
import { createHash } from 'node:crypto';
import type { RuntimeConfig } from '../types.js';

/** Every model file's sha256 (hex, lower case), sorted, once each. */
export function modelFileShas(models: RuntimeConfig['models']): string[] {
  return [...new Set(models.flatMap((m) => m.files.map((f) => f.sha256.toLowerCase())))].sort();
}

/** 8 hex characters. */
export function modelsHash(models: RuntimeConfig['models']): string {
  return createHash('sha256').update(modelFileShas(models).join('\n')).digest('hex').slice(0, 8);
}
