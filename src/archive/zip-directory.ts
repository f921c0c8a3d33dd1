/**
 * Reads a zip's central directory from its last bytes: the End Of Central Directory record (EOCD),
 * the zip64 locator/record when present, then the directory itself. Works on byte ranges so a remote
 * zip (a layer's pre-signed URL) is measured without being downloaded (docs/design.md §4), and on a zip held in
 * memory (`readZipDirectory`): the one reader of the CLI (remote layers) and the handler (deps.zip).
 */
import { isUtf8 } from 'node:buffer';
import { MAX16, MAX32, SIG_CENTRAL, SIG_EOCD, SIG_LOCAL, SIG_ZIP64_EOCD, SIG_ZIP64_LOCATOR } from './zip-format.js';

/** EOCD is 22 bytes plus a comment of at most 65,535 bytes: the tail that always contains it. */
export const EOCD_SEARCH_BYTES = 22 + 0xffff;

const S_IFMT = 0o170000;

/** Where the central directory is, as the end records say. */
export interface DirectoryLocation {
  readonly entries: number;
  readonly offset: number;
  readonly size: number;
  /** Absolute offset of the zip64 EOCD record when its locator says the tail does not hold it; else null. */
  readonly zip64RecordOffset: number | null;
}

/** One central-directory entry. */
export interface ZipEntryInfo {
  readonly name: string;
  readonly bytes: number; // uncompressed
  readonly compressedBytes: number;
  readonly method: number; // 0 stored, 8 deflate
  readonly crc32: number;
  readonly localHeaderOffset: number;
  readonly mode: number; // unix st_mode when the zip was made on unix, else 0
  readonly isDirectory: boolean;
  readonly isSymlink: boolean;
  readonly isEncrypted: boolean;
}

const readU64 = (buf: Buffer, at: number) => Number(buf.readBigUInt64LE(at));

/**
 * Finds the EOCD in `tail` (the last bytes of a file of `fileSize` bytes) and returns where the
 * central directory is. When the zip64 record lies before the tail, `zip64RecordOffset` says where to
 * read 56 bytes and call `readZip64Record`.
 */
export function locateDirectory(tail: Buffer, fileSize: number): DirectoryLocation {
  const tailStart = fileSize - tail.length;
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== SIG_EOCD) continue;
    const commentLength = tail.readUInt16LE(at + 20);
    if (at + 22 + commentLength !== tail.length) continue; // a stray signature inside the comment
    const entries = tail.readUInt16LE(at + 10);
    const size = tail.readUInt32LE(at + 12);
    const offset = tail.readUInt32LE(at + 16);
    const isZip64 = entries === MAX16 || size === MAX32 || offset === MAX32;
    const locatorAt = at - 20;
    if (locatorAt >= 0 && tail.readUInt32LE(locatorAt) === SIG_ZIP64_LOCATOR) {
      const recordOffset = readU64(tail, locatorAt + 8);
      if (recordOffset >= tailStart) return readZip64Record(tail.subarray(recordOffset - tailStart));
      return { entries, offset, size, zip64RecordOffset: recordOffset };
    }
    if (isZip64) throw new Error('zip64 end record announced but its locator is missing');
    return { entries, offset, size, zip64RecordOffset: null };
  }
  throw new Error('not a zip file: no end of central directory record in the last 65,557 bytes');
}

/** Parses a zip64 EOCD record (at least 56 bytes). */
export function readZip64Record(record: Buffer): DirectoryLocation {
  if (record.length < 56 || record.readUInt32LE(0) !== SIG_ZIP64_EOCD)
    throw new Error('corrupt zip64 end of central directory record');
  return {
    entries: readU64(record, 32),
    size: readU64(record, 40),
    offset: readU64(record, 48),
    zip64RecordOffset: null,
  };
}

/** Parses `count` central-directory headers from `dir`, applying zip64 extra fields (id 0x0001). */
export function parseCentralDirectory(dir: Buffer, count: number): ZipEntryInfo[] {
  const entries: ZipEntryInfo[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > dir.length || dir.readUInt32LE(at) !== SIG_CENTRAL)
      throw new Error(`corrupt central directory at entry ${i}`);
    const madeBy = dir.readUInt16LE(at + 4);
    const flags = dir.readUInt16LE(at + 8);
    const method = dir.readUInt16LE(at + 10);
    const crc32 = dir.readUInt32LE(at + 16);
    let compressedBytes = dir.readUInt32LE(at + 20);
    let bytes = dir.readUInt32LE(at + 24);
    const nameLength = dir.readUInt16LE(at + 28);
    const extraLength = dir.readUInt16LE(at + 30);
    const commentLength = dir.readUInt16LE(at + 32);
    const externalAttrs = dir.readUInt32LE(at + 38);
    let localHeaderOffset = dir.readUInt32LE(at + 42);
    const nameBytes = dir.subarray(at + 46, at + 46 + nameLength);
    // bit 11: UTF-8 names. Without it the name should be CP437, but Info-ZIP on unix writes the bytes it was given
    // (UTF-8) and sets no flag: valid UTF-8 is read as UTF-8, anything else as latin1.
    const name = nameBytes.toString(flags & 0x800 || isUtf8(nameBytes) ? 'utf8' : 'latin1');
    const extra = dir.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length;) {
      const id = extra.readUInt16LE(e);
      const length = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let field = e + 4;
        // zip64 fields appear only for the values saturated in the fixed header, in this order
        if (bytes === MAX32) {
          bytes = readU64(extra, field);
          field += 8;
        }
        if (compressedBytes === MAX32) {
          compressedBytes = readU64(extra, field);
          field += 8;
        }
        if (localHeaderOffset === MAX32) {
          localHeaderOffset = readU64(extra, field);
          field += 8;
        }
      }
      e += 4 + length;
    }
    const mode = madeBy >> 8 === 3 ? externalAttrs >>> 16 : 0;
    entries.push({
      name,
      bytes,
      compressedBytes,
      method,
      crc32,
      localHeaderOffset,
      mode,
      isDirectory: name.endsWith('/') || (mode & S_IFMT) === 0o040000,
      isSymlink: (mode & S_IFMT) === 0o120000,
      isEncrypted: (flags & 1) === 1,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Reads the central directory of a zip held in memory (zip64 included). */
export function readZipDirectory(zip: Buffer): ZipEntryInfo[] {
  const tail = zip.subarray(Math.max(0, zip.length - EOCD_SEARCH_BYTES));
  let where = locateDirectory(tail, zip.length);
  if (where.zip64RecordOffset !== null) {
    where = readZip64Record(zip.subarray(where.zip64RecordOffset, where.zip64RecordOffset + 56));
  }
  if (where.offset + where.size > zip.length) throw new Error('truncated: the central directory ends past the file');
  return parseCentralDirectory(zip.subarray(where.offset, where.offset + where.size), where.entries);
}

/**
 * Where an entry's data starts, from the start of its local header (`header`: at least its first 30 bytes); the
 * local name and extra field may differ in length from the central directory's.
 */
export function localDataOffset(header: Buffer, name: string): number {
  if (header.length < 30 || header.readUInt32LE(0) !== SIG_LOCAL) throw new Error(`bad local header for ${name}`);
  return 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/** The compressed bytes of an entry of a zip held in memory (a view into `zip`, no copy). */
export function entryData(zip: Buffer, entry: ZipEntryInfo): Buffer {
  const start = entry.localHeaderOffset + localDataOffset(zip.subarray(entry.localHeaderOffset), entry.name);
  if (start + entry.compressedBytes > zip.length) throw new Error(`truncated entry ${entry.name}`);
  return zip.subarray(start, start + entry.compressedBytes);
}
