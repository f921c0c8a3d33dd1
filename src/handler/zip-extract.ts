/**
 * Extracts a zip held in memory into a folder: entries inflated concurrently, CRC32 checked, modes and symlinks
 * restored, zip-slip refused.
 */
import { promisify } from 'node:util';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { normalize, relative, resolve, sep, dirname } from 'node:path';
import * as zlib from 'node:zlib';
import { checkLinkTarget, safeEntryPath } from './entry-safety.js';
import { entryData, readZipDirectory, type ZipEntryInfo as ZipEntry } from '../archive/zip-directory.js';

export { safeEntryPath } from './entry-safety.js';

const inflateRaw = promisify(zlib.inflateRaw);
// zlib.crc32 arrived in Node 20.15 / 22.2; every Node runtime Lambda still runs (src/runtimes/lambda-runtimes.json) has
// it.
// Read once: modes from the zip are restored exactly, so we need to know what the umask strips.
const UMASK = process.umask();
const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

/** What extractZip did. */
export interface ExtractStats {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
}

/** The shared reader's errors (archive/zip-directory.ts) named for the handler's log: "deps.zip: …". */
function zipRead<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new Error(`deps.zip: ${(error as Error).message}`, { cause: error });
  }
}

async function inflate(zip: Buffer, entry: ZipEntry): Promise<Buffer> {
  const raw = zipRead(() => entryData(zip, entry));
  let data: Buffer;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) {
    // One output chunk of the known size: zlib's default 16 KiB chunks double the inflate time.
    const opts = { chunkSize: Math.max(64, entry.bytes) };
    data = entry.compressedBytes < 8_192 ? zlib.inflateRawSync(raw, opts) : await inflateRaw(raw, opts);
  } else
    throw new Error(
      `deps.zip: ${entry.name} uses compression method ${entry.method}; only stored and deflate are supported`,
    );
  if (data.length !== entry.bytes)
    throw new Error(`deps.zip: ${entry.name} is ${data.length} bytes, the directory says ${entry.bytes}`);
  if (crc32 && crc32(data) >>> 0 !== entry.crc32)
    throw new Error(`deps.zip: CRC32 mismatch in ${entry.name} (corrupt zip)`);
  return data;
}

/** Extracts every entry of `zip` under `dest` (which must exist), `concurrency` entries in flight. */
export async function extractZip(zip: Buffer, dest: string, concurrency = 8): Promise<ExtractStats> {
  const entries = zipRead(() => readZipDirectory(zip));
  const root = resolve(dest);
  const dirs = new Set<string>();
  const files: { entry: ZipEntry; path: string }[] = [];
  const links: { entry: ZipEntry; path: string }[] = [];
  const dirModes = new Map<string, number>();
  for (const entry of entries) {
    if (entry.isEncrypted) throw new Error(`deps.zip: ${entry.name} is encrypted`);
    const path = safeEntryPath(root, entry.name);
    if (entry.isDirectory) {
      dirs.add(path);
      if (entry.mode & 0o777) dirModes.set(path, entry.mode & 0o777);
    } else (entry.isSymlink ? links : files).push({ entry, path });
    if (!entry.isDirectory) dirs.add(dirname(path));
  }
  // Nothing may sit under a symlink of the archive: written through it, it would land where the link points.
  const linkPaths = new Set(links.map((l) => l.path));
  for (const path of [...dirs, ...files.map((f) => f.path), ...linkPaths]) {
    for (let up = dirname(path); up.length > root.length; up = dirname(up)) {
      if (linkPaths.has(up))
        throw new Error(`deps.zip: entry ${relative(root, path)} lies under a symlink of the archive: refused`);
    }
  }
  // Parents first; recursive mkdir tolerates the ones that exist.
  for (const dir of [...dirs].sort()) if (dir !== root) mkdirSync(dir, { recursive: true });
  let bytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const { entry, path } = files[next++];
      const data = await inflate(zip, entry);
      bytes += data.length;
      const mode = entry.mode & 0o777 || 0o644;
      // Synchronous writes on purpose: with a warm page cache they are memory copies, and they keep the
      // threadpool free for the inflates in flight (async writes cost 3 threadpool hops per file).
      writeFileSync(path, data, { mode });
      // The mode passes through the umask: put back exactly what the zip says when it differs.
      if ((mode & ~UMASK) !== mode) chmodSync(path, mode);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  // Symlinks last, so no file is ever written through one; a target that leaves the tree is refused.
  for (const { entry, path } of links) {
    const target = (await inflate(zip, entry)).toString('utf8');
    checkLinkTarget(root, path, target, linkPaths);
    symlinkSync(normalize(target).split(sep).join('/'), path);
  }
  for (const [dir, mode] of dirModes) if ((mode & ~UMASK) !== mode || mode !== 0o755) chmodSync(dir, mode);
  return { files: files.length, dirs: dirs.size, symlinks: links.length, bytes };
}
