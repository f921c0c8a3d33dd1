/**
 * `budget`'s cost per 1,000,000 images and the measured time it may use (docs/backfill.md, "What it costs"). Apart
 * from pipeline/backfill.ts so that `budget` does not load the AWS SDK for it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson } from '../config/load.js';
import { costPerMillion } from '../cost/model.js';
import { DEFAULT_PRICES } from '../cost/prices.js';
import { imageTime } from '../cost/timing.js';
import type { Config, ModelBackend } from '../types.js';

/** What `invoke --local --repeat N` (N ≥ 2) writes beside the artifacts. */
export const TIMING_FILE = 'invoke-timing.json';

/** The measured warm p50 in `<out>/invoke-timing.json`, or null (no file, or no usable figure). */
export async function readMeasuredTiming(out: string): Promise<{ p50Ms: number } | null> {
  const path = join(out, TIMING_FILE);
  if (!existsSync(path)) return null;
  const data = parseJson(await readFile(path, 'utf8'), path) as { warm?: { p50Ms?: unknown } } | null;
  const p50 = data?.warm?.p50Ms;
  return typeof p50 === 'number' && p50 > 0 ? { p50Ms: p50 } : null;
}

/**
 * The cost per 1,000,000 images at the configured memory and models, x86_64 and arm64 (the manifest generator, one
 * job). Pure.
 */
export function budgetCost(
  config: Config,
  measured?: { readonly p50Ms: number } | null,
  backends?: readonly (ModelBackend | undefined)[], // each model's, as budget chose them
) {
  const memoryMb = config.function.memoryMb;
  const time = imageTime({ memoryMb, models: config.models.length, measured: measured ?? null, backends });
  const prices = config.cost?.prices ?? DEFAULT_PRICES;
  const perMillion = (['x86_64', 'arm64'] as const).map((architecture) => ({
    ...costPerMillion({ memoryMb, msPerImage: time.ms, architecture }, prices),
    timeEstimated: architecture !== 'x86_64',
  }));
  return { time, cost: perMillion };
}
