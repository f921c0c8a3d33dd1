/**
 * Which keys a backfill covers, with the semantics of the manifest generator's KeyNameConstraint (docs/backfill.md):
 * the key starts with the prefix and ends with any of the suffixes (case-sensitive, as S3 compares keys).
 */

export interface KeyFilter {
  readonly prefix: string; // '' = the whole bucket
  readonly suffixes: readonly string[]; // [] = every key
}

/** True when `key` is one the backfill processes. Folder markers (keys ending in `/`) never are. */
export function matchesKeyFilter(key: string, filter: KeyFilter): boolean {
  if (key.endsWith('/')) return false;
  if (!key.startsWith(filter.prefix)) return false;
  return filter.suffixes.length === 0 || filter.suffixes.some((suffix) => key.endsWith(suffix));
}

/** Suffixes sorted and deduplicated: the same filter always hashes and prints the same way. */
export function normalizeSuffixes(suffixes: readonly string[]): string[] {
  return [...new Set(suffixes)].sort();
}
