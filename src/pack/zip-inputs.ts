/** FileEntry lists (from the scanner) to zip inputs. */
import type { FileEntry } from '../types.js';
import { absPath } from '../scan/walk.js';
import type { ZipInput } from './zip-writer.js';

/** Maps scanned entries under `root` to zip inputs named `prefix + entry.path`. */
export function entriesToInputs(root: string, entries: readonly FileEntry[], prefix = ''): ZipInput[] {
  return entries.map((entry) =>
    entry.link !== null
      ? { name: prefix + entry.path, kind: 'symlink' as const, link: entry.link }
      : {
          name: prefix + entry.path,
          kind: 'file' as const,
          source: absPath(root, entry.path),
          executable: (entry.mode & 0o111) !== 0,
          size: entry.bytes,
        },
  );
}
