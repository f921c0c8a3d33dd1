/** A tiny schema walker: every error names the field path and how to fix it (docs/design.md §8). */
import { configError } from '../lib/errors.js';
import { BUCKET_RULES_URL, bucketNameProblem } from '../lib/s3-bucket-name.js';
import { s3UrlHint, s3UrlProblem } from '../lib/s3-url.js';

export type Raw = Record<string, unknown>;

/** Levenshtein distance, for "did you mean" suggestions. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The known key closest to `key`, if it is close enough to be a typo. */
export function nearest(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

const describe = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'string'
        ? `"${value}"`
        : typeof value === 'object'
          ? 'an object'
          : String(value);

/** Throws when `value` is not a plain object, or has keys outside `known`. */
export function objectAt(value: unknown, path: string, known: readonly string[]): Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(
      `${path || 'config'} must be an object, got ${describe(value)}`,
      `write ${path || 'the config'} as { ... }`,
    );
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const guess = nearest(key, known);
    const where = path ? `${path}.${key}` : key;
    throw configError(
      `${where} is not a known key`,
      guess ? `did you mean "${guess}"?` : `known keys${path ? ` of ${path}` : ''}: ${known.join(', ')}`,
    );
  }
  return value as Raw;
}

export function stringAt(raw: Raw, key: string, path: string, fallback?: string | null): string | null {
  const value = raw[key];
  if (value === undefined) {
    if (fallback === undefined) {
      throw configError(`${path}.${key} is required`.replace(/^\./, ''), `add "${key}": "…"`);
    }
    return fallback;
  }
  if (typeof value !== 'string' || value.length === 0)
    throw configError(
      `${join(path, key)} must be a non-empty string, got ${describe(value)}`,
      `write it as "${key}": "…"`,
    );
  return value;
}

export function numberAt(
  raw: Raw,
  key: string,
  path: string,
  fallback: number,
  range: readonly [number, number],
  integer = true,
): number {
  const value = raw[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw configError(
      `${join(path, key)} must be ${integer ? 'an integer' : 'a number'}, got ${describe(value)}`,
      `e.g. "${key}": ${fallback}`,
    );
  }
  if (value < range[0] || value > range[1])
    throw configError(
      `${join(path, key)} is ${value}, outside ${range[0]}–${range[1]}`,
      `use a value between ${range[0]} and ${range[1]}`,
    );
  return value;
}

export function enumAt<T extends string>(raw: Raw, key: string, path: string, options: readonly T[], fallback: T): T {
  const value = raw[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !options.includes(value as T)) {
    const guess = typeof value === 'string' ? nearest(value, options) : null;
    throw configError(
      `${join(path, key)} must be one of ${options.map((o) => `"${o}"`).join(', ')}, got ${describe(value)}`,
      guess ? `did you mean "${guess}"?` : `e.g. "${key}": "${fallback}"`,
    );
  }
  return value as T;
}

export function booleanAt(raw: Raw, key: string, path: string, fallback: boolean): boolean {
  const value = raw[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw configError(`${join(path, key)} must be true or false, got ${describe(value)}`, `e.g. "${key}": ${fallback}`);
  return value;
}

export function arrayAt(raw: Raw, key: string, path: string): unknown[] {
  const value = raw[key];
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw configError(`${join(path, key)} must be an array, got ${describe(value)}`, `write it as "${key}": [ … ]`);
  return value;
}

export function stringArrayAt(raw: Raw, key: string, path: string, fallback: readonly string[]): string[] {
  if (raw[key] === undefined) return [...fallback];
  const items = arrayAt(raw, key, path);
  items.forEach((item, i) => {
    if (typeof item !== 'string')
      throw configError(`${join(path, key)}[${i}] must be a string, got ${describe(item)}`, `e.g. "${key}": ["…"]`);
  });
  return items as string[];
}

export const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** Validates an s3://bucket/key URL (scheme and S3's bucket naming rules); returns it unchanged. */
export function s3UrlAt(raw: Raw, key: string, path: string): string | null {
  const value = stringAt(raw, key, path, null);
  if (value === null) return null;
  const problem = s3UrlProblem(value);
  if (problem !== null) throw configError(`${join(path, key)} "${value}" ${problem}`, s3UrlHint(value));
  return value;
}

/** Validates a bare bucket name (artifacts.bucket, trigger.bucket) against S3's naming rules. */
export function bucketAt(raw: Raw, key: string, path: string, fallback?: null): string | null {
  const value = stringAt(raw, key, path, fallback);
  if (value === null) return null;
  const where = `${join(path, key)} "${value}"`;
  if (value.startsWith('s3://')) {
    throw configError(
      `${where} must be a bucket name, not an s3:// URL`,
      `write just the bucket: "${key}": "${value.slice(5).split('/')[0]}"`,
    );
  }
  const problem = bucketNameProblem(value);
  if (problem !== null) {
    throw configError(
      `${where} breaks S3's bucket naming rules: it ${problem}`,
      `rename it, e.g. "${suggestBucket(value)}" (rules: ${BUCKET_RULES_URL})`,
    );
  }
  return value;
}

/** A name close to `name` that S3 accepts: lower case, other characters to hyphens, trimmed to 63. */
function suggestBucket(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 63)
    .replace(/[^a-z0-9]+$/, '');
  const candidate = cleaned.length >= 3 ? cleaned : `${cleaned || 'my'}-bucket`;
  return bucketNameProblem(candidate) === null ? candidate : 'my-bucket';
}
