/**
 * What makes a zip unsafe to measure or ship, judged from its central directory alone: one set of checks for local
 * zips (yauzl) and remote ones (range reads of a layer's pre-signed URL), so both refuse the same archives
 * (docs/budget.md, "Unsafe zips").
 */
import { posix } from 'node:path';
import { formatExact, formatInt } from './bytes.js';

/**
 * Deflate's ceiling: a 258-byte match costs at least 2 bits (1-bit length and distance codes), so one compressed
 * byte yields at most 4 x 258 = 1,032 bytes. No honest deflated entry declares more; a zip that does is a bomb
 * (or its directory lies).
 */
export const DEFLATE_MAX_RATIO = 1032;
/** Longest symlink target read from a zip (PATH_MAX); a longer "target" is not a link. */
export const MAX_LINK_TARGET_BYTES = 4096;

const STORED = 0;
const DEFLATED = 8;

/** The central-directory facts the checks need. */
export interface ZipEntryFacts {
  readonly name: string;
  readonly bytes: number; // uncompressed, as declared
  readonly compressedBytes: number;
  readonly method: number;
  readonly isEncrypted?: boolean; // general purpose bit 0: stored data carries a 12-byte header
}

/** A problem found, worded for `<what the zip is>: <message>`, with the fix. */
export interface ZipProblem {
  readonly message: string;
  readonly hint: string;
}

const REBUILD = 'do not use this archive: rebuild the zip from trusted files (e.g. zip -r), then run again';
const BEYOND_DEFLATE = `more than deflate can produce (${formatInt(DEFLATE_MAX_RATIO)}×): a zip bomb or a corrupt zip`;

/** Why an entry name is unsafe to extract (absolute, drive letter, `..` segment), or null when it is fine. */
export function checkEntryName(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name.includes('\0')) return 'NUL byte in name';
  if (name.startsWith('/') || name.startsWith('\\')) return 'absolute path';
  if (/^[a-zA-Z]:/.test(name)) return 'drive-letter path';
  // Backslashes are separators to Windows tools and to some extractors; treat them as such for `..`.
  if (name.split(/[\\/]/).includes('..')) return 'contains a ".." segment';
  return null;
}

/** Name and declared sizes of one entry: escaping names, sizes deflate cannot produce, stored sizes that differ. */
export function checkZipEntry(entry: ZipEntryFacts): ZipProblem | null {
  const nameProblem = checkEntryName(entry.name);
  if (nameProblem !== null) {
    const message = `entry "${entry.name}" escapes the archive (${nameProblem})`;
    return { message, hint: 'rebuild the zip with relative paths inside the archive' };
  }
  const sizes = `${formatExact(entry.bytes)} unzipped from ${formatExact(entry.compressedBytes)} compressed`;
  if (entry.method === DEFLATED && entry.bytes > DEFLATE_MAX_RATIO * entry.compressedBytes) {
    return { message: `entry "${entry.name}" declares ${sizes}, ${BEYOND_DEFLATE}`, hint: REBUILD };
  }
  if (entry.method === STORED && !entry.isEncrypted && entry.bytes !== entry.compressedBytes) {
    const message =
      `entry "${entry.name}" is stored uncompressed but declares ${sizes} (they must be equal): ` +
      'a corrupt or forged zip';
    return { message, hint: REBUILD };
  }
  return null;
}

/** The declared total against the file itself: entries that share compressed data (overlapping bombs) show here. */
export function checkZipTotal(totalBytes: number, zipBytes: number): ZipProblem | null {
  if (totalBytes <= DEFLATE_MAX_RATIO * zipBytes) return null;
  return {
    message:
      `its entries declare ${formatExact(totalBytes)} unzipped in total from a ${formatInt(zipBytes)}-byte zip, ` +
      BEYOND_DEFLATE,
    hint: REBUILD,
  };
}

/** A symlink entry whose target leaves the archive's root (absolute, or `..` climbing out), as deps links are. */
export function checkLinkTarget(name: string, target: string): ZipProblem | null {
  const slashed = target.replace(/\\/g, '/');
  const inside = posix.normalize(posix.join(posix.dirname(name.replace(/\/+$/, '')), slashed));
  const isAbsolute = slashed.startsWith('/') || /^[a-zA-Z]:/.test(target);
  const escapes = isAbsolute || inside === '..' || inside.startsWith('../');
  if (!escapes) return null;
  return {
    message: `entry "${name}" is a symlink to "${target}", outside the archive`,
    hint: 'replace the link with a copy of its target, or with a relative link that stays inside the archive',
  };
}
