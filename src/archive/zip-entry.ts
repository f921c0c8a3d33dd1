import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { crc32, createDeflateRaw, deflateRaw, deflateRawSync } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { LambdaMlError, fsError, inputError } from '../lib/errors.js';
import { checkEntryName } from './zip-inspect.js';
import type { ArchiveEntry } from './archive-entry.js';
import type { ByteGate } from './zip-gate.js';
import { sha256Hex } from '../lib/sha256.js';
import { DEFLATE_CACHE_MIN_BYTES, hashFile, type CachedDeflate, type DeflateCache } from './deflate-cache.js';

/**
 * One thing to put in a zip: the archive entry (archive-entry.ts), one type for deps.zip, deps.tar.br and
 * function.zip, named like the scanner's FileEntry (`path`, `bytes`, `link`).
 */
export type ZipEntry = ArchiveEntry;

/** An entry validated and normalised: final path (folders end in `/`), its UTF-8 bytes and unix mode. */
export interface PlannedEntry {
  readonly entry: ZipEntry;
  readonly path: string;
  readonly pathBytes: Buffer;
  readonly mode: number;
}

/** An entry ready to write: its header fields and, unless it is streamed from disk at write time, its payload. */
export interface PreparedEntry {
  readonly method: 0 | 8;
  readonly crc: number;
  readonly size: number;
  readonly compressedSize: number;
  readonly payload: Buffer | null; // null: too big to hold, compressed again while writing (or copied from `cached`)
  readonly reserved: number; // bytes held in the gate until written
  /** The deflate cache's copy of this entry's payload (deflate-cache.ts): written from there, not deflated again. */
  readonly cached?: CachedDeflate;
}

// Modes are normalised (docs/design.md §6) so umask and checkout permissions never change the zip.
const MODE = { file: 0o100644, executable: 0o100755, dir: 0o040755, symlink: 0o120777 } as const;
/**
 * Files above this are compressed twice as streams (once to learn the sizes, once to write) instead of held in memory.
 */
export const STREAM_THRESHOLD = 32 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const deflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(deflateRaw);
// Deflated inline below this size (see prepareEntry).
const SMALL = 64 * 1024;
// Output chunk sized to the input so small results are one small buffer, large ones few big ones.
const deflateOptions = (level: number, inputBytes = CHUNK): ZlibOptions => ({
  level,
  memLevel: 8, // 9 measured no smaller on node_modules and is ~4x slower to set up per file
  chunkSize: Math.min(CHUNK, Math.max(16 * 1024, inputBytes >>> 2)),
});

/** Validates paths, normalises modes, sorts by UTF-8 bytes and rejects duplicates. */
export function planEntries(entries: readonly ZipEntry[]): PlannedEntry[] {
  const planned = entries.map(planEntry);
  planned.sort((a, b) => Buffer.compare(a.pathBytes, b.pathBytes));
  for (let i = 1; i < planned.length; i++) {
    if (planned[i].path === planned[i - 1].path) {
      throw inputError(`zip entry "${planned[i].path}" is listed twice`, 'each path may appear once in a package');
    }
  }
  return planned;
}

function planEntry(entry: ZipEntry): PlannedEntry {
  const isDir = entry.kind === 'dir';
  const name = isDir && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const bare = isDir ? name.slice(0, -1) : name;
  const segments = bare.split('/');
  const reason = checkEntryName(bare) ?? (segments.some((s) => s === '' || s === '.') ? 'empty or "." segment' : null);
  const hint = 'entry names must be relative paths inside the package, using "/" and no ".." segments';
  if (reason !== null) throw inputError(`zip entry "${entry.path}": unsafe name (${reason})`, hint);
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 0xffff)
    throw inputError(`zip entry "${name.slice(0, 80)}…": name longer than 65535 bytes`, hint);
  if (entry.kind === 'file' && entry.source === undefined && entry.data === undefined) {
    throw inputError(`zip entry "${name}": a file needs a source path or data`, 'this is a bug in the caller');
  }
  if (entry.kind === 'symlink' && !entry.link) {
    throw inputError(`zip entry "${name}": a symlink needs a target`, 'this is a bug in the caller');
  }
  const mode = isDir
    ? MODE.dir
    : entry.kind === 'symlink'
      ? MODE.symlink
      : entry.executable
        ? MODE.executable
        : MODE.file;
  return { entry, path: name, pathBytes: nameBytes, mode };
}

const stored = (data: Buffer, reserved: number): PreparedEntry => ({
  method: 0,
  crc: crc32(data),
  size: data.length,
  compressedSize: data.length,
  payload: data,
  reserved,
});

/**
 * Deflates (small inputs inline, others in the threadpool); stores when deflate does not shrink the data, as Info-ZIP
 * does.
 */
async function compress(data: Buffer, level: number, reserved: number): Promise<PreparedEntry> {
  if (data.length === 0 || level === 0) return stored(data, reserved);
  let deflated: Buffer;
  if (data.length <= SMALL) {
    deflated = deflateRawSync(data, deflateOptions(level, data.length));
  } else {
    deflated = await deflateRawAsync(data, deflateOptions(level, data.length));
  }
  if (deflated.length >= data.length) return stored(data, reserved);
  // zlib hands back a slice of its output buffer; copy small results so they do not pin it.
  if (deflated.buffer.byteLength > 2 * deflated.length) deflated = Buffer.from(deflated);
  return {
    method: 8,
    crc: crc32(data),
    size: data.length,
    compressedSize: deflated.length,
    payload: deflated,
    reserved,
  };
}

/** Reads and compresses entry `index`, holding its bytes in `gate` (entered exactly once, even on failure). */
export async function prepareEntry(
  planned: PlannedEntry,
  index: number,
  gate: ByteGate,
  level: number,
  signal: AbortSignal,
  cache?: DeflateCache,
): Promise<PreparedEntry> {
  const { entry } = planned;
  if (entry.kind !== 'file' || entry.source === undefined) {
    await gate.enter(index, 0);
    if (entry.kind === 'dir') return stored(Buffer.alloc(0), 0);
    // a symlink's target is its content, never deflated
    if (entry.kind === 'symlink') return stored(Buffer.from(entry.link ?? '', 'utf8'), 0);
    return compress(entry.data ?? Buffer.alloc(0), level, 0);
  }
  const source = entry.source;
  // Most files in node_modules are small: a threadpool round trip (open, stat, read, close, deflate)
  // costs more than the work, so read and deflate those synchronously.
  if (entry.bytes !== undefined && entry.bytes <= SMALL) {
    await gate.enter(index, entry.bytes);
    try {
      signal.throwIfAborted();
      const data = readSmallFile(source, planned.path);
      // null: the file grew since it was listed
      if (data === null) return { ...(await scanLargeFile(source, level, signal)), reserved: entry.bytes };
      return await compress(data, level, entry.bytes);
    } catch (error) {
      throw wrapSourceError(error, source);
    }
  }
  let handle: FileHandle | undefined;
  let failure: { error: unknown } | undefined;
  let size = 0;
  try {
    handle = await open(source, 'r');
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(source, planned.path);
    size = stats.size;
  } catch (error) {
    failure = { error };
  }
  const reserved = failure || size > STREAM_THRESHOLD ? 0 : size;
  const cacheable = cache !== undefined && level > 0 && size >= DEFLATE_CACHE_MIN_BYTES;
  try {
    await gate.enter(index, reserved);
    if (failure) throw failure.error;
    signal.throwIfAborted();
    if (size > STREAM_THRESHOLD) {
      if (!cacheable) return await scanLargeFile(source, level, signal);
      await handle?.close();
      handle = undefined;
      return await cachedLargeFile(source, level, signal, cache);
    }
    const data = await (handle as FileHandle).readFile({ signal });
    if (!cacheable || data.length !== size) return await compress(data, level, reserved);
    const sha256 = sha256Hex(data);
    const hit = await cache.lookup(sha256, data.length, level);
    if (hit) return hit.method === 0 ? stored(data, reserved) : fromCache(hit, reserved);
    const prepared = await compress(data, level, reserved);
    const kept = await cache.store(sha256, level, prepared, prepared.method === 8 ? prepared.payload : null);
    return kept?.payloadPath ? { ...prepared, cached: kept } : prepared;
  } catch (error) {
    throw wrapSourceError(error, source);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The whole file, or null when it is too big to hold. */
function readSmallFile(source: string, name: string): Buffer | null {
  const fd = openSync(source, 'r');
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(source, name);
    return stats.size > STREAM_THRESHOLD ? null : readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

const notRegular = (source: string, name: string) =>
  inputError(`${source}: not a regular file (zip entry "${name}")`, 'list folders as kind "dir"');

/** A cache hit: the record's fields, the payload left on disk (the writer copies it, or streams a stored file). */
const fromCache = (hit: CachedDeflate, reserved: number): PreparedEntry => {
  const { method, crc, size, compressedSize } = hit;
  return { method, crc, size, compressedSize, payload: null, reserved, ...(hit.payloadPath ? { cached: hit } : {}) };
};

/**
 * A large file through the cache: hashed, then looked up; on a miss pass 1 deflates it straight into the cache, so
 * pass 2 copies that instead of deflating again.
 */
async function cachedLargeFile(
  source: string,
  level: number,
  signal: AbortSignal,
  cache: DeflateCache,
): Promise<PreparedEntry> {
  const { sha256, size } = await hashFile(source, signal);
  const hit = await cache.lookup(sha256, size, level);
  if (hit) return fromCache(hit, 0);
  const pending = await cache.begin(sha256, level);
  if (!pending) return scanLargeFile(source, level, signal);
  try {
    const seen = createHash('sha256');
    const scanned = await scanLargeFile(source, level, signal, pending.write, seen);
    // The file changed between the hash and the deflate: keep nothing (the entry would sit under the old content's
    // key), and write it from the file (pass 2 then checks it against pass 1).
    const same = scanned.size === size && seen.digest('hex') === sha256;
    const kept = same ? await pending.commit(scanned) : (await pending.abort(), null);
    return kept?.payloadPath ? { ...scanned, cached: kept } : scanned;
  } catch (error) {
    await pending.abort();
    throw error;
  }
}

/** Pass 1 for a large file: CRC and compressed size, the output handed to `tee` (the cache) or dropped. */
async function scanLargeFile(
  source: string,
  level: number,
  signal: AbortSignal,
  tee?: (chunk: Buffer) => Promise<void>,
  hash?: Hash, // the content's SHA-256, computed on the way
): Promise<PreparedEntry> {
  let crc = 0;
  let size = 0;
  let compressedSize = 0;
  if (level > 0) {
    await pipeline(
      createReadStream(source, { highWaterMark: CHUNK, signal }),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          hash?.update(chunk);
          yield chunk;
        }
      },
      createDeflateRaw(deflateOptions(level)),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          compressedSize += chunk.length;
          if (tee) await tee(chunk);
        }
      },
      { signal },
    );
  } else {
    for await (const chunk of createReadStream(source, { highWaterMark: CHUNK, signal }) as AsyncIterable<Buffer>) {
      crc = crc32(chunk, crc);
      size += chunk.length;
    }
  }
  const method = level > 0 && compressedSize < size ? 8 : 0;
  return { method, crc, size, compressedSize: method === 8 ? compressedSize : size, payload: null, reserved: 0 };
}

/** Pass 2 for a large file: compresses it again straight into `write`, checking it matches pass 1. */
export async function streamLargeFile(
  planned: PlannedEntry,
  prepared: PreparedEntry,
  level: number,
  write: (chunk: Buffer) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const source = planned.entry.source as string;
  let crc = 0;
  let size = 0;
  let compressedSize = 0;
  const sink = async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      compressedSize += chunk.length;
      await write(chunk);
    }
  };
  const tap = async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      yield chunk;
    }
  };
  try {
    const read = createReadStream(source, { highWaterMark: CHUNK, signal });
    if (prepared.method === 8) await pipeline(read, tap, createDeflateRaw(deflateOptions(level)), sink, { signal });
    else await pipeline(read, tap, sink, { signal });
  } catch (error) {
    throw wrapSourceError(error, source);
  }
  if (crc !== prepared.crc || size !== prepared.size || compressedSize !== prepared.compressedSize) {
    throw inputError(
      `${source}: changed while it was being zipped`,
      'do not modify the project while packaging; run again',
    );
  }
}

function wrapSourceError(error: unknown, source: string): unknown {
  if (error instanceof LambdaMlError) return error;
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno?.code === 'string' && typeof errno.syscall === 'string') return fsError(error, source);
  return error;
}
