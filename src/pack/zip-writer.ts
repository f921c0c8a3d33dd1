import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { LambdaMlError, fsError } from '../lib/errors.js';
import { planEntries, prepareEntry, streamLargeFile } from './zip-entry.js';
import type { PlannedEntry, PreparedEntry } from './zip-entry.js';
import { centralHeader, endOfCentralDirectory, localHeader } from './zip-format.js';
import type { ZipRecord } from './zip-format.js';
import { createByteGate } from './zip-gate.js';

export { collectTree } from './collect-tree.js';

/** One thing to put in a zip. Files come from `source` (read at write time) or from `data`. */
export interface ZipInput {
  readonly name: string;
  readonly kind: 'file' | 'dir' | 'symlink';
  readonly source?: string; // absolute path to read for files
  readonly data?: Buffer; // in-memory content instead of source
  readonly link?: string; // symlink target
  readonly executable?: boolean;
  readonly size?: number; // size hint for files from `source` (collectTree sets it); only used for progress totals
}

/** The zip as written (or as it would be written): sizes, counts and its SHA-256. */
export interface ZipResult {
  readonly bytes: number;
  readonly unzippedBytes: number;
  readonly entries: number;
  readonly files: number; // entries that are not folders
  readonly sha256: string; // hex of the zip bytes
  readonly sha256Base64: string; // what Lambda reports as CodeSha256
}

/** Knobs for writeZip/measureZip; none of them changes the output bytes except `level`. */
export interface ZipOptions {
  readonly level?: number; // deflate level, default 9
  readonly concurrency?: number; // files deflated at once, default 8
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
  readonly signal?: AbortSignal;
}

// Uncompressed bytes held by read-but-unwritten entries; one bigger file still passes alone.
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
// How far reading may run ahead of writing, in entries (bounds promises for trees of tiny files).
const MAX_AHEAD = 512;
const FLUSH_BYTES = 1024 * 1024;

/** Writes a deterministic zip atomically (temp file, then rename); on any failure nothing is left behind. */
export async function writeZip(
  inputs: readonly ZipInput[],
  outPath: string,
  options: ZipOptions = {},
): Promise<ZipResult> {
  const entries = planEntries(inputs);
  const tempPath = `${outPath}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(tempPath, 'wx');
    const result = await emitZip(entries, handle, options);
    await handle.close();
    handle = undefined;
    await rename(tempPath, outPath);
    return result;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(tempPath, { force: true }).catch(() => undefined);
    const errno = error as NodeJS.ErrnoException;
    if (!(error instanceof LambdaMlError) && typeof errno?.syscall === 'string') throw fsError(error, outPath, 'write');
    throw error;
  }
}

/** The exact size and SHA-256 of the zip writeZip would produce, without writing anything. */
export async function measureZip(inputs: readonly ZipInput[], options: ZipOptions = {}): Promise<ZipResult> {
  return emitZip(planEntries(inputs), undefined, options);
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
async function emitZip(
  entries: readonly PlannedEntry[],
  handle: FileHandle | undefined,
  options: ZipOptions,
): Promise<ZipResult> {
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
  let running = 0;
  let written = 0;
  let unzippedBytes = 0;
  let failed = false;

  const launch = () => {
    while (!failed && jobs.length < entries.length && running < concurrency && jobs.length - written < MAX_AHEAD) {
      const index = jobs.length;
      running++;
      const job = prepareEntry(entries[index], index, gate, level, signal);
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
      const record: ZipRecord = { ...prepared, name: entry.nameBytes, mode: entry.mode, offset: sink.offset() };
      await sink.write(localHeader(record));
      if (prepared.payload !== null) await sink.write(prepared.payload);
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
    const dirs = entries.filter((entry) => entry.input.kind === 'dir').length;
    return {
      bytes: sink.offset(),
      unzippedBytes,
      entries: entries.length,
      files: entries.length - dirs,
      sha256: digest.toString('hex'),
      sha256Base64: digest.toString('base64'),
    };
  } catch (error) {
    failed = true;
    internal.abort(error);
    gate.fail(error);
    await Promise.allSettled(jobs); // let readers close their files before we report
    throw error;
  }
}

/** Uncompressed total for progress: size hints where given, a stat otherwise. */
async function totalSize(entries: readonly PlannedEntry[]): Promise<number> {
  const sizes = await Promise.all(
    entries.map(async ({ input }) => {
      if (input.kind === 'dir') return 0;
      if (input.kind === 'symlink') return Buffer.byteLength(input.link ?? '');
      if (input.source === undefined) return input.data?.length ?? 0;
      return (
        input.size ??
        (await stat(input.source).then(
          (s) => s.size,
          () => 0,
        ))
      );
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
