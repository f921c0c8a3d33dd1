/**
 * deps.tar.br writer: one tar stream (tar-stream: PAX for long names, symlinks kept) compressed with brotli, byte-
 * identical across builds (sorted entries, mtime 0, uid/gid 0, normalised modes). Written atomically, or measured.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createBrotliCompress } from 'node:zlib';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { entryPathProblem, type ArchiveEntry } from './archive-entry.js';
import { diskUsage } from './disk-usage.js';
import { BROTLI_WRITE, CHUNK_BYTES, TAR_EPOCH, TAR_MODE } from './tar-br-format.js';
import { drained } from '../lib/drained.js';

/** The archive as written (or as it would be written). */
export interface TarBrResult {
  readonly bytes: number; // the compressed archive
  readonly sha256: string; // hex of the compressed bytes
  readonly sha256Base64: string;
  readonly tarBytes: number; // the tar stream before compression
  readonly unpackedBytes: number; // file bytes + symlink target bytes (as a zip's uncompressed sizes sum them)
  readonly diskBytes: number; // what the unpacked tree takes in 4 KiB blocks (disk-usage.ts)
  readonly entries: number; // folders included
  readonly files: number; // entries that are not folders
}

/** Knobs that never change the output bytes. */
export interface TarBrOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/** An entry once validated: its tar name (folders end in '/'), its sort key and its normalised mode. */
interface PlannedTarEntry {
  readonly entry: ArchiveEntry;
  readonly name: string;
  readonly key: Buffer;
}

// Files up to this size are read whole (a few read ahead, in the threadpool); bigger ones are streamed.
const WHOLE_FILE_BYTES = 8 * CHUNK_BYTES;
const READ_AHEAD = 16;

/** Writes deps.tar.br atomically (temp file beside it, then rename); on failure nothing is left behind. */
export async function writeTarBr(
  entries: readonly ArchiveEntry[],
  outPath: string,
  options: TarBrOptions = {},
): Promise<TarBrResult> {
  const temp = `${outPath}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
    const result = await emitTarBr(entries, handle, options);
    await handle.close();
    handle = undefined;
    await rename(temp, outPath);
    return result;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** The exact size, sha256 and unpacked sizes of the archive writeTarBr would write, without writing anything. */
export function measureTarBr(entries: readonly ArchiveEntry[], options: TarBrOptions = {}): Promise<TarBrResult> {
  return emitTarBr(entries, undefined, options);
}

/** Validates paths, adds the folders the paths imply, sorts by UTF-8 bytes and rejects duplicates. */
export function planTarEntries(entries: readonly ArchiveEntry[]): PlannedTarEntry[] {
  const byPath = new Map<string, ArchiveEntry>();
  const folders = new Set<string>();
  for (const entry of entries) {
    const path = entry.kind === 'dir' ? entry.path.replace(/\/+$/, '') : entry.path;
    const problem = entryPathProblem(path);
    if (problem !== null) throw new Error(`archive entry "${entry.path}": unsafe path (${problem})`);
    if (entry.kind === 'file' && entry.source === undefined && entry.data === undefined)
      throw new Error(`archive entry "${path}": a file needs a source path or data`);
    if (entry.kind === 'symlink' && !entry.link) throw new Error(`archive entry "${path}": a symlink needs a target`);
    if (entry.kind === 'dir') folders.add(path);
    else if (byPath.has(path)) throw new Error(`archive entry "${path}" is listed twice`);
    else byPath.set(path, entry);
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) folders.add(path.slice(0, i));
  }
  const planned: PlannedTarEntry[] = [];
  for (const folder of folders) {
    if (byPath.has(folder)) throw new Error(`archive entry "${folder}" is both a file and a folder`);
    const name = `${folder}/`;
    planned.push({ entry: { path: name, kind: 'dir' }, name, key: Buffer.from(name) });
  }
  for (const [path, entry] of byPath) planned.push({ entry, name: path, key: Buffer.from(path) });
  // Byte order puts every folder ("a/") before what it holds ("a/x"), so a reader never meets a child first.
  return planned.sort((a, b) => Buffer.compare(a.key, b.key));
}

function header(planned: PlannedTarEntry, size: number): Headers {
  const { entry, name } = planned;
  const base = { name, mtime: TAR_EPOCH, uid: 0, gid: 0, uname: '', gname: '' };
  if (entry.kind === 'dir') return { ...base, type: 'directory', mode: TAR_MODE.dir, size: 0 };
  if (entry.kind === 'symlink')
    return { ...base, type: 'symlink', mode: TAR_MODE.symlink, size: 0, linkname: entry.link as string };
  return { ...base, type: 'file', mode: entry.executable ? TAR_MODE.executable : TAR_MODE.file, size };
}

/** Adds one entry and resolves once tar-stream took it (its callback is the backpressure). */
function addEntry(tar: Pack, headers: Headers, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    if (data === undefined) tar.entry(headers, done);
    else tar.entry(headers, data, done);
  });
}

/** Streams a big file into its entry: the size comes from the open handle, so a file that changes is an error. */
async function addLargeFile(tar: Pack, planned: PlannedTarEntry, source: string): Promise<number> {
  const handle = await open(source, 'r');
  try {
    const { size } = await handle.stat();
    let sink!: ReturnType<Pack['entry']>;
    const written = new Promise<void>((resolve, reject) => {
      sink = tar.entry(header(planned, size), (error) => (error ? reject(error) : resolve()));
    });
    for (let offset = 0; offset < size;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - offset));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
      if (bytesRead === 0) throw new Error(`${source} shrank while it was archived`);
      offset += bytesRead;
      if (!sink.write(chunk.subarray(0, bytesRead))) await drained(sink);
    }
    (sink as unknown as { end(): void }).end();
    await written;
    return size;
  } finally {
    await handle.close();
  }
}

async function emitTarBr(
  entries: readonly ArchiveEntry[],
  handle: FileHandle | undefined,
  options: TarBrOptions,
): Promise<TarBrResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const planned = planTarEntries(entries);
  const total = planned.reduce((n, p) => n + (p.entry.data?.length ?? p.entry.bytes ?? 0), 0);
  const tar = tarPack();
  const hash = createHash('sha256');
  const sizes = new Map<string, number>();
  let bytes = 0;
  let tarBytes = 0;
  let unpackedBytes = 0;

  // Small files are read a few ahead of the one being compressed; the order they are added in never changes.
  const reads = new Map<number, Promise<Buffer>>();
  const readAt = (index: number) => {
    const entry = planned[index]?.entry;
    if (!entry || entry.kind !== 'file' || reads.has(index)) return;
    if (entry.data !== undefined) reads.set(index, Promise.resolve(entry.data));
    else if ((entry.bytes ?? 0) <= WHOLE_FILE_BYTES) reads.set(index, readFile(entry.source as string));
    reads.get(index)?.catch(() => undefined); // awaited in order below; failures surface there
  };

  const feed = async () => {
    for (let i = 0; i < planned.length; i++) {
      signal?.throwIfAborted();
      for (let ahead = i; ahead < i + READ_AHEAD; ahead++) readAt(ahead);
      const item = planned[i];
      const { entry } = item;
      let size = 0;
      if (entry.kind === 'file') {
        const read = reads.get(i);
        reads.delete(i);
        if (read) {
          const data = await read;
          size = data.length;
          await addEntry(tar, header(item, size), data);
        } else size = await addLargeFile(tar, item, entry.source as string);
        sizes.set(item.name, size);
      } else {
        if (entry.kind === 'symlink') size = Buffer.byteLength(entry.link as string);
        await addEntry(tar, header(item, 0));
      }
      unpackedBytes += size;
      options.onProgress?.(unpackedBytes, Math.max(total, unpackedBytes));
    }
    tar.finalize();
  };

  const counted = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      tarBytes += chunk.length;
      yield chunk;
    }
  };
  const sink = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
      if (handle) for (let done = 0; done < chunk.length;) done += (await handle.write(chunk, done)).bytesWritten;
    }
  };
  const feeding = feed().catch((error) => {
    tar.destroy(error);
    throw error;
  });
  // tar-stream's pack is a streamx readable: read it as an async iterable rather than as a Node stream.
  const compressing = pipeline(() => counted(tar as AsyncIterable<Buffer>), createBrotliCompress(BROTLI_WRITE), sink, {
    signal,
  }).catch((error) => {
    tar.destroy(error);
    throw error;
  });
  const [fed, compressed] = await Promise.allSettled([feeding, compressing]);
  if (fed.status === 'rejected') throw fed.reason;
  if (compressed.status === 'rejected') throw compressed.reason;
  const digest = hash.digest();
  const diskBytes = diskUsage(
    planned.map(({ entry, name }) => ({ path: name, kind: entry.kind, bytes: sizes.get(name), link: entry.link })),
  );
  const folders = planned.filter((p) => p.entry.kind === 'dir').length;
  return {
    bytes,
    sha256: digest.toString('hex'),
    sha256Base64: digest.toString('base64'),
    tarBytes,
    unpackedBytes,
    diskBytes,
    entries: planned.length,
    files: planned.length - folders,
  };
}
