/** package.json files read once per process: the scan reads every one, the prune estimate reads them again. */
import { readFileSync } from 'node:fs';

const cache = new Map<string, Record<string, unknown> | null>();

/** Parsed JSON object at `file`, or null when it is missing or not an object. */
export function readManifestCached(file: string): Record<string, unknown> | null {
  const known = cache.get(file);
  if (known !== undefined) return known;
  let value: Record<string, unknown> | null = null;
  try {
    const json = JSON.parse(readFileSync(file, 'utf8'));
    value = json && typeof json === 'object' && !Array.isArray(json) ? json : null;
  } catch {
    value = null;
  }
  cache.set(file, value);
  return value;
}
