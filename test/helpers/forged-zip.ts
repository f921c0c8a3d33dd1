/**
 * Writes zips byte by byte, including hostile ones no zip tool makes on purpose: symlink entries (Unix mode in the
 * external attributes), central-directory sizes that lie (a small file declaring gigabytes, with zip64 fields), and
 * many directory entries sharing one local entry's data. Real readers (yauzl, unzip, Python's zipfile) read them.
 */
import { crc32, deflateRawSync } from 'node:zlib';

/** One entry as it is written. */
export interface ForgedEntry {
  readonly name: string;
  readonly data: Buffer | string; // the content (for a symlink: its target)
  readonly method?: 0 | 8; // stored or deflated (default 8)
  readonly mode?: number; // Unix st_mode (default 0o100644; 0o120777 for a symlink)
  readonly declaredBytes?: number; // the uncompressed size the directory claims (default: the real one)
  readonly declaredCompressedBytes?: number;
}

/** Options of a forged zip. */
export interface ForgedZipOptions {
  /** Extra central-directory entries pointing at the first local entry's data (an overlapping bomb). */
  readonly repeatFirst?: number;
}

const U32_MAX = 0xffffffff;

/** A symlink entry. */
export const symlinkEntry = (name: string, target: string): ForgedEntry => ({
  name,
  data: target,
  method: 0,
  mode: 0o120777,
});

/** Builds the zip in memory. */
export function forgeZip(entries: readonly ForgedEntry[], options: ForgedZipOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const records: { header: Buffer; name: Buffer; extra: Buffer }[] = [];
  for (const entry of entries) {
    const raw = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data);
    const method = entry.method ?? 8;
    const body = method === 8 ? deflateRawSync(raw, { level: 9 }) : raw;
    const bytes = entry.declaredBytes ?? raw.length;
    const compressed = entry.declaredCompressedBytes ?? body.length;
    const name = Buffer.from(entry.name);
    const zip64 = bytes >= U32_MAX || compressed >= U32_MAX;
    const extra = zip64 ? zip64Extra([bytes, compressed]) : Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(0x800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc32(raw) >>> 0, 14);
    local.writeUInt32LE(zip64 ? U32_MAX : compressed, 18);
    local.writeUInt32LE(zip64 ? U32_MAX : bytes, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const mode = entry.mode ?? 0o100644;
    const header = centralHeader({
      method,
      crc: crc32(raw) >>> 0,
      bytes,
      compressed,
      nameLength: name.length,
      mode,
      offset,
    });
    records.push({ header, name, extra });
    locals.push(local, name, extra, body);
    offset += local.length + name.length + extra.length + body.length;
  }
  for (const { header, name, extra } of records) central.push(header, name, extra);
  for (let i = 0; i < (options.repeatFirst ?? 0); i++) {
    const first = records[0];
    const name = Buffer.from(`${first.name.toString()}.${i}`);
    const header = Buffer.from(first.header);
    header.writeUInt16LE(name.length, 28);
    central.push(header, name, first.extra);
  }
  const directory = Buffer.concat(central);
  const count = entries.length + (options.repeatFirst ?? 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(count, 0xffff), 8);
  end.writeUInt16LE(Math.min(count, 0xffff), 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Central header; zip64 sizes go into an extra field appended by centralExtra. */
interface HeaderFields {
  readonly method: number;
  readonly crc: number;
  readonly bytes: number;
  readonly compressed: number;
  readonly nameLength: number;
  readonly mode: number;
  readonly offset: number;
}

function centralHeader(e: HeaderFields): Buffer {
  const zip64 = e.bytes >= U32_MAX || e.compressed >= U32_MAX;
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE((3 << 8) | (zip64 ? 45 : 20), 4); // made by Unix
  header.writeUInt16LE(zip64 ? 45 : 20, 6);
  header.writeUInt16LE(0x800, 8);
  header.writeUInt16LE(e.method, 10);
  header.writeUInt16LE(0, 12);
  header.writeUInt16LE(0x21, 14);
  header.writeUInt32LE(e.crc, 16);
  header.writeUInt32LE(zip64 ? U32_MAX : e.compressed, 20);
  header.writeUInt32LE(zip64 ? U32_MAX : e.bytes, 24);
  header.writeUInt16LE(e.nameLength, 28);
  header.writeUInt16LE(zip64 ? 20 : 0, 30); // the same zip64 extra as the local header
  header.writeUInt32LE(((e.mode & 0xffff) << 16) >>> 0, 38);
  header.writeUInt32LE(e.offset, 42);
  return header;
}

/** Zip64 extended information: uncompressed then compressed size, 8 bytes each. */
function zip64Extra([bytes, compressed]: readonly number[]): Buffer {
  const extra = Buffer.alloc(20);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(16, 2);
  extra.writeBigUInt64LE(BigInt(bytes), 4);
  extra.writeBigUInt64LE(BigInt(compressed), 12);
  return extra;
}
