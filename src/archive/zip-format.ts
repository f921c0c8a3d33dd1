/** Zip record layouts (APPNOTE 6.3.x) for the deterministic writer; pure functions over Buffers. */

/** What the writer knows about one entry once its data is compressed. */
export interface ZipRecord {
  readonly name: Buffer; // UTF-8
  readonly method: 0 | 8; // stored | deflated
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly mode: number; // unix st_mode, goes in the high 16 bits of the external attributes
  readonly offset: number; // of the local header
}

export const MAX32 = 0xffffffff;
export const MAX16 = 0xffff;
// Record signatures, for the writer here and the reader (zip-directory.ts).
export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
const FLAG_UTF8 = 0x0800; // bit 11: names are UTF-8
// 1980-01-01 00:00:00, the earliest DOS date: ((1980-1980)<<9)|(1<<5)|1. A fixed stamp keeps rebuilds identical.
const DOS_DATE = 0x0021;
const DOS_TIME = 0;
const VERSION_DEFAULT = 20; // 2.0: deflate, folders
const VERSION_ZIP64 = 45; // 4.5: Zip64
const MADE_BY_UNIX = 3 << 8; // so extractors honour the unix mode in the external attributes

/**
 * Zip64 is needed in an entry's local header when either size overflows 32 bits (0xFFFFFFFF is the "see Zip64" marker).
 */
export const needsZip64Sizes = (size: number, compressedSize: number) => size >= MAX32 || compressedSize >= MAX32;

/** Byte length of the local header that `localHeader` will produce. */
export const localHeaderLength = (nameLength: number, zip64: boolean) => 30 + nameLength + (zip64 ? 20 : 0);

/** Local file header with real sizes (no data descriptor), so streaming readers can extract. */
export function localHeader(record: ZipRecord): Buffer {
  const zip64 = needsZip64Sizes(record.size, record.compressedSize);
  const buf = Buffer.alloc(localHeaderLength(record.name.length, zip64));
  buf.writeUInt32LE(SIG_LOCAL, 0);
  buf.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
  buf.writeUInt16LE(FLAG_UTF8, 6);
  buf.writeUInt16LE(record.method, 8);
  buf.writeUInt16LE(DOS_TIME, 10);
  buf.writeUInt16LE(DOS_DATE, 12);
  buf.writeUInt32LE(record.crc, 14);
  buf.writeUInt32LE(zip64 ? MAX32 : record.compressedSize, 18);
  buf.writeUInt32LE(zip64 ? MAX32 : record.size, 22);
  buf.writeUInt16LE(record.name.length, 26);
  buf.writeUInt16LE(zip64 ? 20 : 0, 28);
  record.name.copy(buf, 30);
  if (zip64) {
    // In a local header the Zip64 field must hold both sizes.
    const at = 30 + record.name.length;
    buf.writeUInt16LE(0x0001, at);
    buf.writeUInt16LE(16, at + 2);
    buf.writeBigUInt64LE(BigInt(record.size), at + 4);
    buf.writeBigUInt64LE(BigInt(record.compressedSize), at + 12);
  }
  return buf;
}

/** Central directory header; the Zip64 field carries only the values that overflow, in APPNOTE order. */
export function centralHeader(record: ZipRecord): Buffer {
  const big: number[] = [];
  if (record.size >= MAX32) big.push(record.size);
  if (record.compressedSize >= MAX32) big.push(record.compressedSize);
  if (record.offset >= MAX32) big.push(record.offset);
  const extraLength = big.length === 0 ? 0 : 4 + 8 * big.length;
  const version = big.length === 0 ? VERSION_DEFAULT : VERSION_ZIP64;
  const buf = Buffer.alloc(46 + record.name.length + extraLength);
  buf.writeUInt32LE(SIG_CENTRAL, 0);
  buf.writeUInt16LE(MADE_BY_UNIX | version, 4);
  buf.writeUInt16LE(version, 6);
  buf.writeUInt16LE(FLAG_UTF8, 8);
  buf.writeUInt16LE(record.method, 10);
  buf.writeUInt16LE(DOS_TIME, 12);
  buf.writeUInt16LE(DOS_DATE, 14);
  buf.writeUInt32LE(record.crc, 16);
  buf.writeUInt32LE(Math.min(record.compressedSize, MAX32), 20);
  buf.writeUInt32LE(Math.min(record.size, MAX32), 24);
  buf.writeUInt16LE(record.name.length, 28);
  buf.writeUInt16LE(extraLength, 30);
  // 32 comment length, 34 disk number start, 36 internal attributes: all 0
  buf.writeUInt32LE((record.mode & 0xffff) * 0x10000, 38);
  buf.writeUInt32LE(Math.min(record.offset, MAX32), 42);
  record.name.copy(buf, 46);
  if (big.length > 0) {
    let at = 46 + record.name.length;
    buf.writeUInt16LE(0x0001, at);
    buf.writeUInt16LE(8 * big.length, at + 2);
    at += 4;
    for (const value of big) {
      buf.writeBigUInt64LE(BigInt(value), at);
      at += 8;
    }
  }
  return buf;
}

/** End of central directory, preceded by the Zip64 record and locator when any count, size or offset overflows. */
export function endOfCentralDirectory(entries: number, cdOffset: number, cdSize: number): Buffer {
  const zip64 = entries >= MAX16 || cdOffset >= MAX32 || cdSize >= MAX32;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(SIG_EOCD, 0);
  eocd.writeUInt16LE(Math.min(entries, MAX16), 8);
  eocd.writeUInt16LE(Math.min(entries, MAX16), 10);
  eocd.writeUInt32LE(Math.min(cdSize, MAX32), 12);
  eocd.writeUInt32LE(Math.min(cdOffset, MAX32), 16);
  if (!zip64) return eocd;
  const record = Buffer.alloc(56);
  record.writeUInt32LE(SIG_ZIP64_EOCD, 0);
  record.writeBigUInt64LE(44n, 4); // size of the rest of this record
  record.writeUInt16LE(MADE_BY_UNIX | VERSION_ZIP64, 12);
  record.writeUInt16LE(VERSION_ZIP64, 14);
  record.writeBigUInt64LE(BigInt(entries), 24);
  record.writeBigUInt64LE(BigInt(entries), 32);
  record.writeBigUInt64LE(BigInt(cdSize), 40);
  record.writeBigUInt64LE(BigInt(cdOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(SIG_ZIP64_LOCATOR, 0);
  locator.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8); // the Zip64 record follows the central directory
  locator.writeUInt32LE(1, 16); // total number of disks
  return Buffer.concat([record, locator, eocd]);
}
