/**
 * Entries of a zip this run already wrote, copied instead of deflated again: the measure stage writes the archives
 * it measures when `package` asks (docs/design.md §4), and the function zip takes their entries' deflated bytes as
 * they are. Deflate is deterministic for the same bytes, level and zlib, so a copied entry is byte for byte what
 * deflating it again would give: the zip equals a fresh write.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { LambdaMlError } from '../lib/errors.js';
import type { PlannedEntry, ZipEntry } from './zip-entry.js';
import { localHeaderLength, needsZip64Sizes, type ZipRecord } from './zip-format.js';

/** One written entry: what it was made of (its planned path) and its record in the file. */
export interface KeptEntry {
  readonly path: string;
  readonly entry: ZipEntry;
  readonly record: ZipRecord;
}

/** A zip on disk and the records of its entries: what writeZip's `reuse` copies from. */
export interface ReusableZip {
  readonly path: string;
  readonly level: number;
  readonly entries: readonly KeptEntry[];
}

/** A kept entry found for a planned one, and the zip it sits in. */
export interface ReuseHit {
  readonly zip: ReusableZip;
  readonly kept: KeptEntry;
}

/** Finds and copies reusable entries; `close` releases the files it opened. */
export interface Reuse {
  readonly find: (planned: PlannedEntry) => ReuseHit | null;
  readonly copy: (hit: ReuseHit, write: (chunk: Buffer) => Promise<void>) => Promise<void>;
  readonly close: () => Promise<void>;
}

const COPY_CHUNK = 1024 * 1024;

/** True when two entries make the same zip entry: same path, kind, content source and mode. */
export function sameEntry(a: ZipEntry, b: ZipEntry): boolean {
  const sameData = a.data === undefined ? b.data === undefined : b.data !== undefined && a.data.equals(b.data);
  const sameBytes = a.bytes === undefined || b.bytes === undefined || a.bytes === b.bytes;
  return (
    a.kind === b.kind &&
    a.source === b.source &&
    a.link === b.link &&
    Boolean(a.executable) === Boolean(b.executable) &&
    sameBytes &&
    sameData
  );
}

/** Reuse over `zips` written at `level` (zips written at another level are ignored: their bytes would differ). */
export function openReuse(zips: readonly ReusableZip[], level: number): Reuse {
  const byPath = new Map<string, ReuseHit>();
  for (const zip of zips) {
    if (zip.level !== level) continue;
    for (const kept of zip.entries) if (!byPath.has(kept.path)) byPath.set(kept.path, { zip, kept });
  }
  const handles = new Map<string, Promise<FileHandle>>();
  const handleOf = (path: string) => {
    let handle = handles.get(path);
    if (!handle) {
      handle = open(path, 'r');
      handles.set(path, handle);
    }
    return handle;
  };
  return {
    find(planned) {
      const hit = byPath.get(planned.path);
      return hit && sameEntry(hit.kept.entry, planned.entry) ? hit : null;
    },
    async copy({ zip, kept }, write) {
      const { record } = kept;
      const zip64 = needsZip64Sizes(record.size, record.compressedSize);
      const start = record.offset + localHeaderLength(record.name.length, zip64);
      const handle = await handleOf(zip.path);
      for (let done = 0; done < record.compressedSize;) {
        const want = Math.min(COPY_CHUNK, record.compressedSize - done);
        const { bytesRead, buffer } = await handle.read(Buffer.alloc(want), 0, want, start + done);
        if (bytesRead === 0) {
          throw new LambdaMlError('internal', `${zip.path} ended inside entry "${kept.path}"`, 'run the command again');
        }
        await write(bytesRead === want ? buffer : buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
    },
    async close() {
      const opened = await Promise.allSettled(handles.values());
      for (const result of opened) if (result.status === 'fulfilled') await result.value.close().catch(() => undefined);
    },
  };
}
