/** Measures a remote zip from its central directory through range reads (docs/design.md §4). */
import { inflateRawSync } from 'node:zlib';
import type { RangeReader } from './range-reader.js';
import {
  EOCD_SEARCH_BYTES,
  localDataOffset,
  locateDirectory,
  parseCentralDirectory,
  readZip64Record,
  type ZipEntryInfo,
} from '../archive/zip-directory.js';

/** The listing of a remote zip: what Lambda counts (sum of uncompressed sizes) without the file's body. */
export interface RemoteZipListing {
  readonly zipBytes: number;
  readonly bytes: number; // unzipped: sum of entry sizes
  readonly files: number; // non-directory entries
  readonly entries: readonly ZipEntryInfo[];
}

/** Reads the EOCD (one suffix range), then the central directory (one more range unless the tail held it). */
export async function listRemoteZip(reader: RangeReader): Promise<RemoteZipListing> {
  const { body: tail, size } = await reader.readTail(EOCD_SEARCH_BYTES);
  let where = locateDirectory(tail, size);
  if (where.zip64RecordOffset !== null)
    where = readZip64Record(await reader.read(where.zip64RecordOffset, where.zip64RecordOffset + 55));
  const tailStart = size - tail.length;
  const dir =
    where.offset >= tailStart
      ? tail.subarray(where.offset - tailStart, where.offset - tailStart + where.size)
      : where.size === 0
        ? Buffer.alloc(0)
        : await reader.read(where.offset, where.offset + where.size - 1);
  const entries = parseCentralDirectory(dir, where.entries);
  let bytes = 0;
  let files = 0;
  for (const entry of entries) {
    bytes += entry.bytes;
    if (!entry.isDirectory) files++;
  }
  return { zipBytes: size, bytes, files, entries };
}

/** Largest entry `readRemoteEntry` will fetch: it is meant for package.json / METADATA, not payloads. */
export const MAX_REMOTE_ENTRY_BYTES = 256 * 1024;
/** Slack for the local header's extra field, which may differ from the central directory's. */
const LOCAL_EXTRA_SLACK = 512;

/** Reads one small entry's content with one range read (stored or deflated). */
export async function readRemoteEntry(reader: RangeReader, entry: ZipEntryInfo): Promise<Buffer> {
  if (entry.compressedBytes > MAX_REMOTE_ENTRY_BYTES) throw new Error(`${entry.name} is too large to read remotely`);
  const nameLength = Buffer.byteLength(entry.name);
  let span = 30 + nameLength + LOCAL_EXTRA_SLACK + entry.compressedBytes;
  let chunk = await reader.read(entry.localHeaderOffset, entry.localHeaderOffset + span - 1);
  const dataStart = localDataOffset(chunk, entry.name);
  if (dataStart + entry.compressedBytes > chunk.length) {
    span = dataStart + entry.compressedBytes;
    chunk = await reader.read(entry.localHeaderOffset, entry.localHeaderOffset + span - 1);
  }
  const data = chunk.subarray(dataStart, dataStart + entry.compressedBytes);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new Error(`${entry.name}: unsupported compression method ${entry.method}`);
}
