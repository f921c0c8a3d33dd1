import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { LambdaMlError, fsError } from '../lib/errors.js';
import { planEntries, prepareEntry, streamLargeFile } from './zip-entry.js';
import type { PlannedEntry, PreparedEntry, ZipEntry } from './zip-entry.js';
import { centralHeader, endOfCentralDirectory, localHeader } from './zip-format.js';
import type { ZipRecord } from './zip-format.js';
import { createByteGate } from './zip-gate.js';
import { openReuse, type KeptEntry, type ReusableZip, type ReuseHit } from './zip-reuse.js';
import { openDeflateCache } from './deflate-cache.js';

export type { ZipEntry } from './zip-entry.js';
export type { ReusableZip } from './zip-reuse.js';

/** The zip as written (or as it would be written): sizes, counts and its SHA-256. */
export interface ZipResult {
  readonly bytes: number;
  readonly unzippedBytes: number;
  readonly entries: number;
  readonly files: number; // entries that are not folders
  readonly sha256: string; // hex of the zip bytes
  readonly sha256Base64: string; // what Lambda reports as CodeSha256
  /** Entries copied from `reuse` zips instead of deflated. */
  readonly reusedEntries: number;
  /** Entries whose deflate came from the deflate cache (`cacheDir`), an earlier run's or this one's. */
  readonly cachedEntries: number;
  /** With `keep` (writeZip only): the file and its entries' records, for a later writeZip's `reuse`. */
  readonly reusable?: ReusableZip;
}

/** Knobs for writeZip/measureZip; none of them changes the output bytes except `level`. */
export interface ZipOptions {
  readonly level?: number; // deflate level, default 9
  readonly concurrency?: number; // files deflated at once, default 8
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
  readonly signal?: AbortSignal;
  /** writeZip: also return the records of what it wrote (ZipResult.reusable). */
  readonly keep?: boolean;
  /** Zips this run wrote with `keep`: their matching entries are copied, not deflated again (zip-reuse.ts). */
  readonly reuse?: readonly ReusableZip[];
  /** A deflate cache folder (deflate-cache.ts): big files deflated by an earlier run are copied from there. */
  readonly cacheDir?: string;
}

// Uncompressed bytes held by read-but-unwritten entries; one bigger file still passes alone.
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
// How far reading may run ahead of writing, in entries (bounds promises for trees of tiny files).
const MAX_AHEAD = 512;
const FLUSH_BYTES = 1024 * 1024;

/** Writes a deterministic zip atomically (temp file, then rename); on any failure nothing is left behind. */
export async function writeZip(
  entries: readonly ZipEntry[],
  outPath: string,
  options: ZipOptions = {},
): Promise<ZipResult> {
  const planned = planEntries(entries);
  const tempPath = `${outPath}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(tempPath, 'wx');
    const result = await emitZipRecords(planned, handle, options);
    await handle.close();
    handle = undefined;
    await rename(tempPath, outPath);
    if (!options.keep) return result.zip;
    const kept = planned.map((p, i): KeptEntry => ({ path: p.path, entry: p.entry, record: result.records[i] }));
    return { ...result.zip, reusable: { path: outPath, level: options.level ?? 9, entries: kept } };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(tempPath, { force: true }).catch(() => undefined);
    const errno = error as NodeJS.ErrnoException;
    if (!(error instanceof LambdaMlError) && typeof errno?.syscall === 'string') throw fsError(error, outPath, 'write');
    throw error;
  }
}

/** The exact size and SHA-256 of the zip writeZip would produce, without writing anything. */
export async function measureZip(entries: readonly ZipEntry[], options: ZipOptions = {}): Promise<ZipResult> {
  return (await emitZipRecords(planEntries(entries), undefined, options)).zip;
}

interface Sink {
  readonly offset: () => number;
  readonly write: (chunk: Buffer) => Promise<void>;
  readonly end: () => Promise<Buffer>; // the SHA-256
}

/** Hashes everything and, given a file, writes it in ~1 MiB batches. */
function createSink(handle: FileHandle | undefined): Sink {
  const hash = createHash('sha256');
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (handle === undefined || pendingBytes === 0) return;
    const data = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    for (let done = 0; done < data.length;) done += (await handle.write(data, done, data.length - done)).bytesWritten;
  };
  return {
    offset: () => offset,
    async write(chunk) {
      hash.update(chunk);
      offset += chunk.length;
      if (handle === undefined) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= FLUSH_BYTES) await flush();
    },
    async end() {
      await flush();
      return hash.digest();
    },
  };
}

// Files are read and deflated concurrently in the threadpool but written strictly in sorted order.
async function emitZipRecords(
  entries: readonly PlannedEntry[],
  handle: FileHandle | undefined,
  options: ZipOptions,
): Promise<{ zip: ZipResult; records: ZipRecord[] }> {
  const level = options.level ?? 9;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
  const internal = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internal.signal]) : internal.signal;
  signal.throwIfAborted();
  const totalBytes = options.onProgress ? await totalSize(entries) : 0;
  const gate = createByteGate(MAX_IN_FLIGHT_BYTES);
  const sink = createSink(handle);
  const jobs: Promise<PreparedEntry>[] = [];
  const records: ZipRecord[] = [];
  const reuse = options.reuse?.length ? openReuse(options.reuse, level) : null;
  const cache = options.cacheDir ? openDeflateCache(options.cacheDir) : undefined;
  let cachedEntries = 0;
  const hits: (ReuseHit | null)[] = [];
  let running = 0;
  let written = 0;
  let unzippedBytes = 0;
  let failed = false;

  const launch = () => {
    while (!failed && jobs.length < entries.length && running < concurrency && jobs.length - written < MAX_AHEAD) {
      const index = jobs.length;
      running++;
      const hit = reuse?.find(entries[index]) ?? null;
      hits.push(hit);
      // A reused entry holds no bytes in memory: it is copied from its zip when its turn to be written comes.
      const job = hit
        ? gate.enter(index, 0).then(() => reusedEntry(hit))
        : prepareEntry(entries[index], index, gate, level, signal, cache);
      jobs.push(job);
      job
        .catch(() => undefined)
        .finally(() => {
          running--;
          launch();
        });
    }
  };

  try {
    for (const [index, entry] of entries.entries()) {
      launch();
      const prepared = await jobs[index];
      signal.throwIfAborted();
      const record: ZipRecord = { ...prepared, name: entry.pathBytes, mode: entry.mode, offset: sink.offset() };
      await sink.write(localHeader(record));
      const hit = hits[index];
      if (prepared.cached) cachedEntries++;
      if (hit) await reuse!.copy(hit, sink.write);
      else if (prepared.payload !== null) await sink.write(prepared.payload);
      else if (prepared.cached)
        await cache!.copy(prepared.cached, sink.write); // measuring hashes these bytes too
      else await streamLargeFile(entry, prepared, level, sink.write, signal);
      gate.release(prepared.reserved);
      written++;
      records.push(record);
      unzippedBytes += prepared.size;
      options.onProgress?.(unzippedBytes, Math.max(totalBytes, unzippedBytes));
    }
    const cdOffset = sink.offset();
    for (const record of records) await sink.write(centralHeader(record));
    await sink.write(endOfCentralDirectory(records.length, cdOffset, sink.offset() - cdOffset));
    const digest = await sink.end();
    signal.throwIfAborted();
    const dirs = entries.filter(({ entry }) => entry.kind === 'dir').length;
    const zip: ZipResult = {
      bytes: sink.offset(),
      unzippedBytes,
      entries: entries.length,
      files: entries.length - dirs,
      sha256: digest.toString('hex'),
      sha256Base64: digest.toString('base64'),
      reusedEntries: hits.filter((hit) => hit !== null).length,
      cachedEntries,
    };
    return { zip, records };
  } catch (error) {
    failed = true;
    internal.abort(error);
    gate.fail(error);
    await Promise.allSettled(jobs); // let readers close their files before we report
    throw error;
  } finally {
    await reuse?.close();
  }
}

/** A reused entry's header fields, as prepareEntry would have computed them. */
const reusedEntry = ({ kept }: ReuseHit): PreparedEntry => {
  const { method, crc, size, compressedSize } = kept.record;
  return { method, crc, size, compressedSize, payload: null, reserved: 0 };
};

/** Uncompressed total for progress: size hints where given, a stat otherwise. */
async function totalSize(entries: readonly PlannedEntry[]): Promise<number> {
  const sizes = await Promise.all(
    entries.map(async ({ entry }) => {
      if (entry.kind === 'dir') return 0;
      if (entry.kind === 'symlink') return Buffer.byteLength(entry.link ?? '');
      if (entry.source === undefined) return entry.data?.length ?? 0;
      return (
        entry.bytes ??
        (await stat(entry.source).then(
          (s) => s.size,
          () => 0,
        ))
      );
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
