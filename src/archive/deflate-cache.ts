/**
 * Deflated files kept across runs (docs/design.md, "The deflate cache"). Deflate at level 9 is the slow part of every
 * `budget` and `package`, and most of its bytes are the same each run: the handler's native packages (libvips,
 * libonnxruntime: 60+ MiB), the big files of node_modules. Deflate is deterministic for the same bytes, level,
 * memLevel and zlib, so an entry is keyed by the SHA-256 of the file's content, the level and the zlib version, and
 * a hit gives exactly the bytes deflating again would: the zip is byte for byte a fresh write (test/unit/deflate-
 * cache.test.ts). A hit costs reading the file and the payload (to hash them) instead of a deflate.
 *
 * Layout: `<dir>/z<zlib>-l<level>/<aa>/<sha256>.json` (method, crc, sizes, the payload's own SHA-256) and, for
 * deflated entries, `<sha256>.bin` (the raw deflate stream). Writes are temp file + rename, so concurrent runs never
 * see half an entry; a payload that does not hash to its record is a miss (removed, deflated again), and one that
 * changes between that check and its copy fails the run with one line naming it.
 * The cache is best effort: a full or read-only cache folder only makes the run slower.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { versions } from 'node:process';
import { LambdaMlError } from '../lib/errors.js';
import { sha256Hex } from '../lib/sha256.js';

/** Files smaller than this are deflated each time: a lookup would cost about what deflating them does. */
export const DEFLATE_CACHE_MIN_BYTES = 1024 * 1024;
const CHUNK = 1024 * 1024;

/** A cached deflate result: the zip record's fields and, when deflated, where its payload is. */
export interface CachedDeflate {
  readonly method: 0 | 8;
  readonly crc: number;
  readonly size: number;
  readonly compressedSize: number;
  /** The raw deflate stream (method 8), or null for a stored entry (its payload is the file itself). */
  readonly payloadPath: string | null;
  readonly payloadSha256: string | null;
}

/** What a deflate produced, to be stored. */
export interface DeflateRecord {
  readonly method: 0 | 8;
  readonly crc: number;
  readonly size: number;
  readonly compressedSize: number;
}

/** A payload being streamed into the cache: `commit` makes it an entry, `abort` leaves nothing. */
export interface PendingPayload {
  readonly write: (chunk: Buffer) => Promise<void>;
  readonly commit: (record: DeflateRecord) => Promise<CachedDeflate | null>;
  readonly abort: () => Promise<void>;
}

export interface DeflateCache {
  readonly dir: string;
  lookup(sha256: string, size: number, level: number): Promise<CachedDeflate | null>;
  /** Stores a result whose payload is in memory (null for a stored entry); null when the cache cannot be written. */
  store(sha256: string, level: number, record: DeflateRecord, payload: Buffer | null): Promise<CachedDeflate | null>;
  /** Starts streaming a payload into the cache, or null when the cache cannot be written. */
  begin(sha256: string, level: number): Promise<PendingPayload | null>;
  /** Writes a cached payload, checking it against its recorded SHA-256 and size. */
  copy(entry: CachedDeflate, write: (chunk: Buffer) => Promise<void>): Promise<void>;
}

/** The SHA-256 (hex) of a file's content, streamed. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK, signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** The cache in `dir` (created on first store). */
export function openDeflateCache(dir: string): DeflateCache {
  const base = (sha256: string, level: number) => join(dir, `z${versions.zlib}-l${level}`, sha256.slice(0, 2), sha256);
  const tempOf = (path: string) => `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  /** Temp file, then rename: a concurrent run sees the whole file or none. */
  const writeAtomically = async (path: string, data: string | Buffer) => {
    const temp = tempOf(path);
    try {
      await writeFile(temp, data, { flag: 'wx' });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  };

  async function writeRecord(
    sha256: string,
    level: number,
    record: DeflateRecord,
    payloadSha256: string | null,
  ): Promise<CachedDeflate> {
    await writeAtomically(`${base(sha256, level)}.json`, JSON.stringify({ ...pick(record), payloadSha256 }) + '\n');
    return { ...pick(record), payloadSha256, payloadPath: record.method === 8 ? `${base(sha256, level)}.bin` : null };
  }

  return {
    dir,
    async lookup(sha256, size, level) {
      const path = base(sha256, level);
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(`${path}.json`, 'utf8'));
      } catch {
        return null; // absent, or not ours
      }
      const record = asRecord(parsed);
      if (!record || record.size !== size) return null;
      if (record.method === 0) return { ...record, payloadPath: null };
      // A payload that does not hash to its record (a disk error, a hand edit) is a miss: removed, deflated afresh.
      const payload = await hashFile(`${path}.bin`).catch(() => null);
      if (payload?.sha256 === record.payloadSha256 && payload.size === record.compressedSize) {
        return { ...record, payloadPath: `${path}.bin` };
      }
      await rm(`${path}.json`, { force: true }).catch(() => undefined);
      await rm(`${path}.bin`, { force: true }).catch(() => undefined);
      return null;
    },
    async store(sha256, level, record, payload) {
      const path = base(sha256, level);
      try {
        await mkdir(dirname(path), { recursive: true });
        if (record.method === 8 && payload) await writeAtomically(`${path}.bin`, payload);
        return await writeRecord(sha256, level, record, record.method === 8 && payload ? sha256Hex(payload) : null);
      } catch {
        return null;
      }
    },
    async begin(sha256, level) {
      const path = base(sha256, level);
      const temp = tempOf(`${path}.bin`);
      let handle: FileHandle;
      try {
        await mkdir(dirname(path), { recursive: true });
        handle = await open(temp, 'wx');
      } catch {
        return null;
      }
      const hash = createHash('sha256');
      let failed = false;
      const abort = async () => {
        failed = true;
        await handle.close().catch(() => undefined);
        await rm(temp, { force: true }).catch(() => undefined);
      };
      return {
        async write(chunk) {
          if (failed) return;
          hash.update(chunk);
          try {
            for (let done = 0; done < chunk.length;) {
              done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
            }
          } catch {
            await abort(); // a full cache folder: the run goes on without the entry
          }
        },
        async commit(record) {
          if (failed) return null;
          try {
            await handle.close();
            if (record.method !== 8) {
              await rm(temp, { force: true });
              return await writeRecord(sha256, level, record, null);
            }
            await rename(temp, `${path}.bin`);
            return await writeRecord(sha256, level, record, hash.digest('hex'));
          } catch {
            await abort();
            return null;
          }
        },
        abort,
      };
    },
    async copy(entry, write) {
      if (entry.payloadPath === null) throw new Error('copy() needs a deflated entry');
      const hash = createHash('sha256');
      let size = 0;
      try {
        const stream = createReadStream(entry.payloadPath, { highWaterMark: CHUNK });
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > entry.compressedSize) break;
          hash.update(chunk);
          await write(chunk);
        }
      } catch (error) {
        if (error instanceof LambdaMlError) throw error;
        throw damaged(entry.payloadPath, dir, (error as Error).message);
      }
      if (size !== entry.compressedSize || hash.digest('hex') !== entry.payloadSha256) {
        await rm(entry.payloadPath, { force: true }).catch(() => undefined);
        await rm(entry.payloadPath.replace(/\.bin$/, '.json'), { force: true }).catch(() => undefined);
        throw damaged(entry.payloadPath, dir, 'its bytes do not match its record; the entry was removed');
      }
    },
  };
}

const damaged = (path: string, dir: string, why: string) =>
  new LambdaMlError('internal', `deflate cache entry ${path} is damaged (${why})`, `run again (or delete ${dir})`);

const pick = ({ method, crc, size, compressedSize }: DeflateRecord): DeflateRecord => ({
  method,
  crc,
  size,
  compressedSize,
});

function asRecord(value: unknown): (DeflateRecord & { payloadSha256: string | null }) | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const whole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if ((v.method !== 0 && v.method !== 8) || !whole(v.crc) || !whole(v.size) || !whole(v.compressedSize)) return null;
  const payloadSha256 = typeof v.payloadSha256 === 'string' ? v.payloadSha256 : null;
  if (v.method === 8 && (payloadSha256 === null || !/^[0-9a-f]{64}$/.test(payloadSha256))) return null;
  if (v.method === 0 && v.compressedSize !== v.size) return null;
  return { method: v.method, crc: v.crc, size: v.size, compressedSize: v.compressedSize, payloadSha256 };
}
