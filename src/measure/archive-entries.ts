/** FileEntry lists (from the scanner) to zip entries. */
import type { FileEntry } from '../types.js';
import { absPath } from '../scan/walk.js';
import type { ZipEntry } from '../archive/zip-entry.js';

/** Maps scanned entries under `root` to zip entries at `prefix + entry.path`. */
export function entriesToInputs(root: string, entries: readonly FileEntry[], prefix = ''): ZipEntry[] {
  return entries.map((entry) =>
    entry.link !== null
      ? { path: prefix + entry.path, kind: 'symlink' as const, link: entry.link }
      : {
          path: prefix + entry.path,
          kind: 'file' as const,
          source: absPath(root, entry.path),
          executable: (entry.mode & 0o111) !== 0,
          bytes: entry.bytes,
        },
  );
}
