/**
 * What to say about a failed file operation: one line naming the path, and a hint that fits both the error code and
 * the direction (a write failure never says "make it readable"). Used by fsError (lib/errors.ts).
 */

/** Operations that change the disk; anything else (read, list, stat, open) reads. */
const WRITE_OPS = new Set(['write', 'create', 'append', 'rename', 'remove', 'replace']);

/** Whether `what` (fsError's verb) writes. */
export const isWriteOp = (what: string) => WRITE_OPS.has(what);

interface Wording {
  readonly message: string;
  readonly hint: string | undefined;
}
type Case = (path: string, what: string) => Wording;
const say = (message: string, hint?: string): Wording => ({ message, hint });

const SPACE: Case = (p) => say(`${p}: no space left on device`, 'free disk space or choose another --out folder');
const QUOTA: Case = (p) => say(`${p}: disk quota or file size limit reached`, 'free disk space or raise the limit');
const DENIED: Case = (p, what) =>
  say(`${p}: permission denied (cannot ${what})`, 'make it readable by the current user (chmod/chown)');

/** Reading: the path is a config entry or a command-line input. */
const READS: Record<string, Case> = {
  ENOENT: (p) => say(`${p}: not found`, "check the path (config paths resolve against the config file's folder)"),
  EACCES: DENIED,
  EPERM: DENIED,
  ENOTDIR: (p) => say(`${p}: not a folder`, 'point the config at a folder'),
  EISDIR: (p) => say(`${p}: is a folder, not a file`, 'point at a file'),
  ENOSPC: SPACE,
  EDQUOT: QUOTA,
  EFBIG: QUOTA,
};

const WRITABLE_HINT = 'make it writable by the current user (chmod/chown), or choose another path';
const NOT_WRITABLE: Case = (p, what) => say(`${p}: permission denied (cannot ${what})`, WRITABLE_HINT);

/** Writing: the path is an output (a report, --out, convert's OUT). */
const WRITES: Record<string, Case> = {
  ENOENT: (p) => say(`${p}: its folder does not exist`, 'create the folder first, or choose another path'),
  EACCES: NOT_WRITABLE,
  EPERM: NOT_WRITABLE,
  EROFS: (p, what) => say(`${p}: read-only file system (cannot ${what})`, 'choose a path on a writable disk'),
  ENOTDIR: (p) => say(`${p}: a folder on its path is a file`, 'choose another path, or move that file away'),
  EEXIST: (p) => say(`${p}: is a file, not a folder`, 'choose another path, or move that file away'),
  EISDIR: (p) => say(`${p}: is a folder, not a file`, 'give a file path (e.g. a file inside that folder)'),
  ENOSPC: SPACE,
  EDQUOT: QUOTA,
  EFBIG: QUOTA,
};

/** The message and hint for an fs error `code` on `path` during `what`. */
export function fsWording(code: string | undefined, path: string, what: string, detail?: string): Wording {
  const table = isWriteOp(what) ? WRITES : READS;
  const known = code === undefined ? undefined : table[code];
  return known ? known(path, what) : say(`${path}: cannot ${what} (${code ?? detail})`);
}
