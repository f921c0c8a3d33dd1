/**
 * One thing to put in a deps archive, whatever its format: the same shape as the zip writer's entry (`path`, `kind`,
 * `source` or `data`, `link`, `executable`, `bytes`), so one list feeds deps.zip and deps.tar.br alike.
 */
export interface ArchiveEntry {
  readonly path: string; // '/'-separated, relative; a folder may end in '/'
  readonly kind: 'file' | 'dir' | 'symlink';
  readonly source?: string; // absolute path to read for files
  readonly data?: Buffer; // in-memory content instead of source
  readonly link?: string; // symlink target
  readonly executable?: boolean;
  readonly bytes?: number; // size of `source` when known; only used for progress and disk estimates
}

/** Why `path` cannot be an archive entry name (absolute, `..`, empty or `.` segment, NUL, drive letter), or null. */
export function entryPathProblem(path: string): string | null {
  if (path.length === 0) return 'empty';
  if (path.includes('\0')) return 'contains NUL';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute';
  const segments = path.split('/');
  if (segments.includes('..')) return '".." segment';
  if (segments.some((s) => s === '' || s === '.')) return 'empty or "." segment';
  return null;
}
