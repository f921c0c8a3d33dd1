/** Sizes of archive entries, before any compression. */
import { statSync } from 'node:fs';
import type { ArchiveEntry } from '../archive/archive-entry.js';

/** Bytes of a list of entries (files from disk or memory). */
export function inputBytes(inputs: readonly ArchiveEntry[]): number {
  return inputs.reduce(
    (total, input) => total + (input.data?.length ?? (input.source ? statSync(input.source).size : 0)),
    0,
  );
}
