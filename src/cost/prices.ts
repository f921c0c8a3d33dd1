/**
 * The price table (prices.json: source pages and the date read) and its override from config `cost.prices`, a
 * partial copy of the same shape whose numbers replace the defaults (docs/backfill.md, "What it costs").
 */
import data from './prices.json' with { type: 'json' };
import { configError } from '../lib/errors.js';
import type { PriceTable } from '../types.js';

// The shapes live in types.ts (Config carries a PriceTable); re-exported for the cost modules.
export type { LambdaPrice, PriceTable } from '../types.js';

const strip = ({ $comment: _c, ...rest }: typeof data) => rest;

/** The built-in table. */
export const DEFAULT_PRICES: PriceTable = Object.freeze(strip(data)) as PriceTable;

/** The keys an override may set: a price is a non-negative number; region, currency and the notes are text. */
const NUMERIC: Record<string, readonly string[]> = {
  'lambda.x86_64': ['perGbSecond', 'perMillionRequests'],
  'lambda.arm64': ['perGbSecond', 'perMillionRequests'],
  batchOperations: ['perJob', 'perMillionObjectOperations', 'perMillionObjectsListed'],
  s3Requests: ['perThousandGet', 'perThousandPut', 'perThousandList'],
};
const TEXT: Record<string, readonly string[]> = {
  '': ['region', 'currency'],
  lambda: ['source', 'read', 'note'],
  batchOperations: ['source', 'read', 'note'],
  s3Requests: ['source', 'read', 'note'],
};
const CHILDREN: Record<string, readonly string[]> = {
  '': ['lambda', 'batchOperations', 's3Requests'],
  lambda: ['x86_64', 'arm64'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks an override (config path `at`, e.g. "cost.prices") and returns the merged table; throws a config error. */
export function mergePrices(override: unknown, at = 'cost.prices', base: PriceTable = DEFAULT_PRICES): PriceTable {
  if (override === undefined || override === null) return base;
  const walk = (value: unknown, into: Record<string, unknown>, path: string): Record<string, unknown> => {
    const where = path ? `${at}.${path}` : at;
    if (!isObject(value)) {
      const hint = 'see docs/backfill.md for the shape of the price table';
      throw configError(`${where} must be an object, got ${JSON.stringify(value)}`, hint);
    }
    const out: Record<string, unknown> = { ...into };
    for (const [key, v] of Object.entries(value)) {
      const child = path ? `${path}.${key}` : key;
      if ((CHILDREN[path] ?? []).includes(key)) out[key] = walk(v, into[key] as Record<string, unknown>, child);
      else if ((NUMERIC[path] ?? []).includes(key)) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
          const example = `e.g. "${key}": ${JSON.stringify(into[key])}`;
          const what = `${at}.${child} must be a price in ${base.currency} (a number ≥ 0)`;
          throw configError(`${what}, got ${JSON.stringify(v)}`, example);
        }
        out[key] = v;
      } else if ((TEXT[path] ?? []).includes(key)) {
        if (typeof v !== 'string') {
          const hint = 'e.g. the page the price comes from';
          throw configError(`${at}.${child} must be a string, got ${JSON.stringify(v)}`, hint);
        }
        out[key] = v;
      } else {
        const known = [...(CHILDREN[path] ?? []), ...(NUMERIC[path] ?? []), ...(TEXT[path] ?? [])];
        throw configError(`${at}.${child} is not a known key`, `known keys here: ${known.join(', ')}`);
      }
    }
    return out;
  };
  return Object.freeze(walk(override, base as unknown as Record<string, unknown>, '')) as unknown as PriceTable;
}
