/**
 * deps.tar.br reader: the archive's bytes, as they arrive, are brotli-decompressed, untarred (tar-stream) and written
 * under a folder in one pipeline; nothing is held whole in memory and no archive is written to /tmp. Entries that
 * escape, hard links and devices are refused; the output is bounded by the sizes `package` recorded.
 */
import { chmodSync, closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, normalize, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { BROTLI_READ, CHUNK_BYTES, TAR_FRAMING_PER_ENTRY } from '../archive/tar-br-format.js';
import { checkLinkTarget, safeEntryPath } from './entry-safety.js';
import { drained } from '../lib/drained.js';

/** What the archive may unpack to: `package` recorded both, so more is a broken or hostile archive. */
export interface TarBrLimits {
  readonly unpackedBytes: number; // file bytes + symlink target bytes
  readonly entries: number; // files, folders and symlinks
}

/** What extractTarBr wrote. */
export interface TarBrStats {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number; // file bytes written
}

/** A failure of the archive itself (bad brotli, bad tar, a refused entry), as opposed to its download or the disk. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

// Read once: modes are restored exactly, so we need to know what the umask strips.
const UMASK = process.umask();

/**
 * Extracts the tar.br bytes of `source` under `dest` (an existing, empty folder). `label` names the archive in every
 * message. Rejects with the source's own error when the source fails, with an ArchiveError when the archive is bad.
 */
export async function extractTarBr(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  dest: string,
  label: string,
  limits: TarBrLimits,
): Promise<TarBrStats> {
  const root = resolve(dest);
  const refuse = (why: string) => new ArchiveError(`${label}: ${why}`);
  // The path checks are shared with deps.zip; here their refusals are archive errors like the others.
  const checked = <T>(check: () => T): T => {
    try {
      return check();
    } catch (error) {
      throw new ArchiveError((error as Error).message);
    }
  };
  const maxInflated = limits.unpackedBytes + (limits.entries + 2) * TAR_FRAMING_PER_ENTRY;
  const made = new Set<string>([root]);
  const links: { path: string; target: string }[] = [];
  const linkPaths = new Set<string>();
  const stats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  let entries = 0;
  let unpacked = 0;

  const mkdirs = (dir: string) => {
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    for (let up = dir; up.length > root.length && !made.has(up); up = dirname(up)) made.add(up);
  };

  const writeFile = async (path: string, header: Header, body: AsyncIterable<Buffer>) => {
    const size = header.size ?? 0;
    const mode = (header.mode ?? 0) & 0o111 ? 0o755 : 0o644;
    if (size <= CHUNK_BYTES) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      // Synchronous writes on purpose: with a warm page cache they are memory copies, and they leave the threadpool
      // to brotli. `wx`: an archive that names one path twice is refused, never silently overwritten.
      writeFileSync(path, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), { mode, flag: 'wx' });
    } else {
      const fd = openSync(path, 'wx', mode);
      try {
        for await (const chunk of body) for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
      } finally {
        closeSync(fd);
      }
    }
    if ((mode & ~UMASK) !== mode) chmodSync(path, mode);
  };

  const onEntry = async (header: Header, body: AsyncIterable<Buffer> & { resume(): void }) => {
    const { name, type } = header;
    if (++entries > limits.entries)
      throw refuse(`holds more than the ${limits.entries} entries it was packaged with: refused`);
    const path = checked(() => safeEntryPath(root, name, label));
    for (let up = dirname(path); up.length > root.length; up = dirname(up))
      if (linkPaths.has(up)) throw refuse(`entry "${name}" lies under a symlink of the archive: refused`);
    if (type === 'directory') {
      body.resume();
      if (path !== root) mkdirs(path);
      stats.dirs++;
      return;
    }
    if (type === 'symlink') {
      body.resume();
      const target = header.linkname ?? '';
      unpacked += Buffer.byteLength(target);
      linkPaths.add(path);
      links.push({ path, target });
      return;
    }
    if (type !== 'file')
      throw refuse(`entry "${name}" is a ${type ?? 'special file'}: only files, folders and symlinks`);
    const size = header.size ?? 0;
    unpacked += size;
    if (unpacked > limits.unpackedBytes)
      throw refuse(
        `unpacks to more than the ${limits.unpackedBytes} bytes it was packaged with (at "${name}"): refused`,
      );
    mkdirs(dirname(path));
    await writeFile(path, header, body).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EEXIST' ? refuse(`entry "${name}" is in the archive twice: refused`) : error;
    });
    stats.files++;
    stats.bytes += size;
  };

  let inflated = 0;
  const bounded = async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      inflated += chunk.length;
      if (inflated > maxInflated) throw refuse(`inflates past ${maxInflated} bytes of tar: refused`);
      yield chunk;
    }
  };

  // tar-stream's extract is a streamx writable: fed by hand, its own parse errors become "corrupt".
  const untar = async (chunks: AsyncIterable<Buffer>) => {
    const tar = tarExtract();
    let failure: unknown = null;
    const fail = (error: unknown) => {
      const own = error instanceof ArchiveError || (error as NodeJS.ErrnoException)?.syscall;
      failure ??= own ? error : refuse(`is corrupt: not a whole tar stream (${(error as Error)?.message ?? error})`);
      return failure;
    };
    const finished = new Promise<void>((resolveDone, reject) => {
      tar.on('entry', (header, body, next) => {
        onEntry(header, body as unknown as AsyncIterable<Buffer> & { resume(): void }).then(
          () => next(),
          (error) => next(fail(error) as Error),
        );
      });
      tar.on('finish', () => resolveDone());
      tar.on('error', (error: unknown) => reject(fail(error)));
      tar.on('close', () => reject(failure ?? refuse('is corrupt: the tar stream stopped early')));
    });
    finished.catch(() => undefined); // awaited below, after the last write
    const gone = () => tar.destroyed || (tar as unknown as { destroying?: boolean }).destroying === true;
    for await (const chunk of chunks) {
      if (failure || gone()) break;
      if (!tar.write(chunk) && !gone()) await drained(tar);
    }
    if (!failure && !gone()) (tar as unknown as { end(): void }).end();
    await finished;
  };

  // Errors of the source (a cut download, a deadline) pass through as they are; the caller words them.
  let sourceFailed = false;
  const fromSource = async function* () {
    try {
      yield* source;
    } catch (error) {
      sourceFailed = true;
      throw error;
    }
  };
  try {
    await pipeline(fromSource, createBrotliDecompress(BROTLI_READ), bounded, untar);
  } catch (error) {
    if (sourceFailed || error instanceof ArchiveError || (error as NodeJS.ErrnoException).syscall) throw error;
    throw refuse(`is corrupt: brotli could not decompress it (${(error as Error).message ?? error})`);
  }
  // Symlinks last, so no file is ever written through one.
  for (const { path, target } of links) {
    checked(() => checkLinkTarget(root, path, target, linkPaths, label));
    mkdirs(dirname(path));
    try {
      symlinkSync(normalize(target).split(sep).join('/'), path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw refuse(`symlink ${relative(root, path)} is also a file or folder of the archive: refused`);
    }
    stats.symlinks++;
  }
  return stats;
}
