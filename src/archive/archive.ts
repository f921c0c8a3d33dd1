/**
 * One API over the archive formats (docs/design.md §4, §6): measure an archive exactly (nothing written) or write it
 * atomically, whatever its format. The measure stage and pack both call these; the encoders sit beside this file.
 */
import type { ArchiveEntry } from './archive-entry.js';
import { diskUsage } from './disk-usage.js';
import { measureTarBr, writeTarBr, type TarBrResult } from './tar-br.js';
import { measureZip, writeZip, type ReusableZip, type ZipResult } from './zip-writer.js';

/** The formats lambda-ml writes: zip (function.zip, deps.zip) and deps.tar.br. */
export type ArchiveFormat = 'zip' | 'tar.br';

/** An archive as written, or as it would be written: the same fields for every format. */
export interface ArchiveResult {
  readonly format: ArchiveFormat;
  readonly bytes: number; // the archive file
  readonly unpackedBytes: number; // file bytes + symlink targets once extracted (a zip's uncompressed sizes)
  readonly diskBytes: number; // what the extracted tree takes in 4 KiB blocks, folders included (disk-usage.ts)
  readonly entries: number; // folders included
  readonly files: number; // entries that are not folders
  readonly sha256: string; // hex of the archive bytes
  readonly sha256Base64: string; // what Lambda reports as CodeSha256 for a zip
  /** Entries copied from `reuse` zips instead of compressed again (0 for tar.br). */
  readonly reusedEntries: number;
  /** zip written with `keep`: what a later write may copy instead of deflating again. */
  readonly reusable?: ReusableZip;
}

/** Knobs that never change the bytes; `keep`, `reuse` and `cacheDir` apply to zip only. */
export interface ArchiveOptions {
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
  readonly signal?: AbortSignal;
  readonly keep?: boolean;
  readonly reuse?: readonly ReusableZip[];
  /** The deflate cache folder (deflate-cache.ts). */
  readonly cacheDir?: string;
}

/** The exact size and sha256 of `entries` as a `format` archive, nothing written. */
export async function measureArchive(
  entries: readonly ArchiveEntry[],
  format: ArchiveFormat,
  options: ArchiveOptions = {},
): Promise<ArchiveResult> {
  return format === 'zip'
    ? fromZip(await measureZip(entries, options), entries)
    : fromTarBr(await measureTarBr(entries, options));
}

/** Writes `entries` as a `format` archive at `outPath` (temp file, then rename). */
export async function writeArchive(
  entries: readonly ArchiveEntry[],
  outPath: string,
  format: ArchiveFormat,
  options: ArchiveOptions = {},
): Promise<ArchiveResult> {
  return format === 'zip'
    ? fromZip(await writeZip(entries, outPath, options), entries)
    : fromTarBr(await writeTarBr(entries, outPath, options));
}

const fromZip = (zip: ZipResult, entries: readonly ArchiveEntry[]): ArchiveResult => ({
  format: 'zip',
  bytes: zip.bytes,
  unpackedBytes: zip.unzippedBytes,
  diskBytes: diskUsage(entries),
  entries: zip.entries,
  files: zip.files,
  sha256: zip.sha256,
  sha256Base64: zip.sha256Base64,
  reusedEntries: zip.reusedEntries,
  ...(zip.reusable ? { reusable: zip.reusable } : {}),
});

const fromTarBr = (tar: TarBrResult): ArchiveResult => ({
  format: 'tar.br',
  bytes: tar.bytes,
  unpackedBytes: tar.unpackedBytes,
  diskBytes: tar.diskBytes,
  entries: tar.entries,
  files: tar.files,
  sha256: tar.sha256,
  sha256Base64: tar.sha256Base64,
  reusedEntries: 0,
});
