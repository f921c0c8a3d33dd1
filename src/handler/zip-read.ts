/**
 * A small zip central-directory reader on Node built-ins only: the bootstrap must extract deps.zip before any npm
 * package exists.
 */

/** One entry of the central directory. */
export interface ZipEntry {
  readonly name: string;
  readonly method: number; // 0 stored, 8 deflate
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
  readonly mode: number; // unix st_mode when the zip was made on unix, else 0
  readonly isDirectory: boolean;
  readonly isSymlink: boolean;
  readonly encrypted: boolean;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CDH = 0x02014b50;
const LFH = 0x04034b50;
const S_IFMT = 0o170000;

function fail(message: string): never {
  throw new Error(`deps.zip: ${message}`);
}

function findEocd(zip: Buffer): number {
  // The EOCD record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
  const min = Math.max(0, zip.length - 22 - 0xffff);
  for (let i = zip.length - 22; i >= min; i--) if (zip.readUInt32LE(i) === EOCD) return i;
  return fail('not a zip file (no end of central directory record)');
}

/** Reads the central directory of a zip held in memory (zip64 included). */
export function readCentralDirectory(zip: Buffer): ZipEntry[] {
  const eocd = findEocd(zip);
  let count = zip.readUInt16LE(eocd + 10);
  let cdSize = zip.readUInt32LE(eocd + 12);
  let cdOffset = zip.readUInt32LE(eocd + 16);
  if (
    (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) &&
    eocd >= 20 &&
    zip.readUInt32LE(eocd - 20) === EOCD64_LOCATOR
  ) {
    const at = Number(zip.readBigUInt64LE(eocd - 12));
    if (zip.readUInt32LE(at) !== EOCD64) fail('bad zip64 end of central directory');
    count = Number(zip.readBigUInt64LE(at + 32));
    cdSize = Number(zip.readBigUInt64LE(at + 40));
    cdOffset = Number(zip.readBigUInt64LE(at + 48));
  }
  if (cdOffset + cdSize > zip.length) fail('truncated (central directory past the end of the file)');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== CDH) fail(`bad central directory header #${i}`);
    const madeBy = zip.readUInt16LE(p + 4);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc32 = zip.readUInt32LE(p + 16);
    let compressedSize = zip.readUInt32LE(p + 20);
    let size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const external = zip.readUInt32LE(p + 38);
    let localHeaderOffset = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field (0x0001): only the fields that are 0xFFFFFFFF above, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = zip.readUInt16LE(e);
      const len = zip.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = Number(zip.readBigUInt64LE(q));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(zip.readBigUInt64LE(q));
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) {
          localHeaderOffset = Number(zip.readBigUInt64LE(q));
        }
      }
      e += 4 + len;
    }
    const mode = madeBy >> 8 === 3 ? external >>> 16 : 0;
    entries.push({
      name,
      method,
      crc32,
      compressedSize,
      size,
      localHeaderOffset,
      mode,
      isDirectory: name.endsWith('/') || (mode & S_IFMT) === 0o040000,
      isSymlink: (mode & S_IFMT) === 0o120000,
      encrypted: (flags & 1) === 1,
    });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** The compressed bytes of an entry (a view into `zip`, no copy). */
export function entryData(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== LFH) fail(`bad local header for ${entry.name}`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  if (start + entry.compressedSize > zip.length) fail(`truncated entry ${entry.name}`);
  return zip.subarray(start, start + entry.compressedSize);
}
