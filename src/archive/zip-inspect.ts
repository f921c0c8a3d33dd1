import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { formatExact } from '../lib/bytes.js';
import { LambdaMlError, fsError, inputError } from '../lib/errors.js';
import { checkEntryName, checkZipEntry, checkZipTotal } from '../lib/zip-safety.js';

/** One entry of a zip's central directory. */
export interface ZipListingEntry {
  readonly name: string;
  readonly bytes: number; // uncompressed
  readonly compressedBytes: number;
  readonly mode: number; // unix mode (externalFileAttributes >>> 16), 0 when the writer stored none
  readonly isDir: boolean;
  readonly isSymlink: boolean;
}

/** What a zip holds, measured from its central directory (nothing is extracted). */
export interface ZipListing {
  readonly path: string;
  readonly bytes: number; // size of the zip file
  readonly unzippedBytes: number; // sum of uncompressed sizes
  readonly files: number; // entries that are not folders
  readonly entries: readonly ZipListingEntry[];
}

/** Limits that turn a hostile archive into an input error. */
export interface InspectOptions {
  readonly maxRatio?: number; // uncompressed/compressed of one entry; default 1000
  readonly maxUnzippedBytes?: number; // total uncompressed; default unlimited
}

const DEFAULT_MAX_RATIO = 1000;
// Tiny entries (a run of spaces, an empty JSON array) can legitimately compress >1000:1 only in
// theory; deflate tops out near 1032:1, so the ratio check only matters for entries big enough to hurt.
const RATIO_MIN_BYTES = 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Why an entry name is unsafe to extract; shared with layer zips (src/lib/zip-safety.ts). */
export { checkEntryName };

/** Lists a zip from its central directory only (yauzl, lazy entries) and rejects unsafe or bomb-like archives. */
export async function inspectZip(path: string, opts: InspectOptions = {}): Promise<ZipListing> {
  const maxRatio = opts.maxRatio ?? DEFAULT_MAX_RATIO;
  const maxUnzipped = opts.maxUnzippedBytes ?? Number.POSITIVE_INFINITY;
  let size: number;
  let reader: BlockReader;
  try {
    const handle = await open(path, 'r');
    size = (await handle.stat()).size;
    reader = new BlockReader(handle);
  } catch (error) {
    throw fsError(error, path);
  }
  let zip: ZipFile;
  try {
    // decodeStrings: false so that we decode and judge names ourselves and can name the bad entry.
    zip = await yauzl.fromRandomAccessReaderPromise(reader, size, {
      lazyEntries: true,
      autoClose: true,
      decodeStrings: false,
      validateEntrySizes: true,
      strictFileNames: true,
    });
  } catch (error) {
    await reader.handle.close().catch(() => undefined);
    throw notAZip(path, error);
  }
  const entries: ZipListingEntry[] = [];
  let unzippedBytes = 0;
  let files = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const item = toListingEntry(entry);
      const isEncrypted = (entry.generalPurposeBitFlag & 1) === 1;
      const problem = checkZipEntry({ ...item, method: entry.compressionMethod, isEncrypted });
      if (problem !== null) throw inputError(`${path}: ${problem.message}`, problem.hint);
      if (item.bytes >= RATIO_MIN_BYTES && item.bytes > maxRatio * Math.max(item.compressedBytes, 1)) {
        const ratio = item.compressedBytes === 0 ? 'infinite' : `${Math.round(item.bytes / item.compressedBytes)}:1`;
        throw inputError(
          `${path}: entry "${item.name}" looks like a zip bomb (${formatExact(item.bytes)} ` +
            `from ${formatExact(item.compressedBytes)}, ratio ${ratio} > ${maxRatio}:1)`,
          'do not extract this archive; rebuild it from trusted sources',
        );
      }
      unzippedBytes += item.bytes;
      if (unzippedBytes > maxUnzipped) {
        throw inputError(
          `${path}: unzips to more than ${maxUnzipped} bytes (zip bomb?)`,
          'do not extract this archive, or raise the limit if it is trusted',
        );
      }
      if (!item.isDir) files++;
      entries.push(item);
    }
  } catch (error) {
    zip.close();
    if (error instanceof LambdaMlError) throw error;
    throw notAZip(path, error);
  }
  const total = checkZipTotal(unzippedBytes, size);
  if (total !== null) throw inputError(`${path}: ${total.message}`, total.hint);
  return { path, bytes: size, unzippedBytes, files, entries };
}

function toListingEntry(entry: Entry): ZipListingEntry {
  // Same decoding yauzl does (UTF-8 flag, Info-ZIP unicode path field), but backslashes kept (strict).
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  const mode = entry.externalFileAttributes >>> 16;
  const type = mode & S_IFMT;
  return {
    name,
    bytes: entry.uncompressedSize,
    compressedBytes: entry.compressedSize,
    mode,
    isDir: name.endsWith('/') || type === S_IFDIR,
    isSymlink: type === S_IFLNK,
  };
}

function notAZip(path: string, error: unknown) {
  const detail = error instanceof Error ? error.message : String(error);
  return inputError(
    `${path}: not a zip file or truncated (${detail.split('\n')[0]})`,
    'rebuild the archive, or check that the download or copy completed',
    error,
  );
}

const BLOCK = 1024 * 1024;

/**
 * yauzl's own fd reader costs two threadpool reads per entry (seconds for 70,000 entries);
 * the central directory is read front to back, so serving it from 1 MiB blocks makes that a handful.
 */
class BlockReader extends yauzl.RandomAccessReader {
  readonly handle: FileHandle;
  private block: { start: number; data: Buffer } | undefined;
  constructor(handle: FileHandle) {
    super();
    this.handle = handle;
  }
  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    this.readAsync(buffer, offset, length, position).then(
      (bytesRead) => done(null, bytesRead),
      (error: Error) => done(error),
    );
  }
  private async readAsync(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    let copied = 0;
    while (copied < length) {
      const at = position + copied;
      const block = await this.blockAt(at);
      const available = block.start + block.data.length - at;
      if (available <= 0) break; // end of file
      const n = Math.min(available, length - copied);
      block.data.copy(buffer, offset + copied, at - block.start, at - block.start + n);
      copied += n;
    }
    return copied;
  }
  private async blockAt(position: number): Promise<{ start: number; data: Buffer }> {
    const start = position - (position % BLOCK);
    if (this.block?.start !== start) {
      const data = Buffer.alloc(BLOCK);
      const { bytesRead } = await this.handle.read(data, 0, BLOCK, start);
      this.block = { start, data: data.subarray(0, bytesRead) };
    }
    return this.block;
  }
  override _readStreamForRange(start: number, end: number) {
    return createReadStream('', { fd: this.handle.fd, start, end: end - 1, autoClose: false });
  }
  override close(callback: (err: Error | null) => void): void {
    this.handle.close().then(() => callback(null), callback);
  }
}
