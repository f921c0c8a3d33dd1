/**
 * deps.tar.br: the sideloaded deps as one tar stream compressed with brotli (docs/package.md, "Sideload archive").
 * What the writer (tar-br.ts) and the handler's reader (src/handler/tar-extract.ts) agree on.
 */
import { constants, type BrotliOptions } from 'node:zlib';

/** The archive formats a sideload plan can ship; Node defaults to tar.br, Python reads only zip. */
export const SIDELOAD_FORMATS = ['tar.br', 'zip'] as const;
export type SideloadFormat = (typeof SIDELOAD_FORMATS)[number];

/** The file name of each format in --out and in the function zip. */
export const ARCHIVE_FILE: Readonly<Record<SideloadFormat, string>> = { 'tar.br': 'deps.tar.br', zip: 'deps.zip' };

// 1 MiB chunks: zlib's default 16 KiB output chunk doubles brotli's decompression time (measured, BASELINES.md).
export const CHUNK_BYTES = 1024 * 1024;

/** Brotli as `package` writes it: quality 9, a 16 MiB window (lgwin 24), generic mode, 1 MiB output chunks. */
export const BROTLI_WRITE: BrotliOptions = {
  chunkSize: CHUNK_BYTES,
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 9,
    [constants.BROTLI_PARAM_LGWIN]: 24,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC,
  },
};

/** Brotli as the handler reads it: 1 MiB output chunks. */
export const BROTLI_READ: BrotliOptions = { chunkSize: CHUNK_BYTES };

/** Normalised modes (docs/design.md §6): the same inputs give the same bytes whatever the umask or checkout. */
export const TAR_MODE = { file: 0o644, executable: 0o755, dir: 0o755, symlink: 0o777 } as const;

/** mtime 0, uid/gid 0, no user or group names: nothing of the build machine lands in the archive. */
export const TAR_EPOCH = new Date(0);

/**
 * The most tar framing (headers, PAX records, padding) one entry may add to the unpacked bytes: the reader stops a
 * stream that inflates past `unpackedBytes + entries * this` (a decompression bomb), whatever the file sizes say.
 */
export const TAR_FRAMING_PER_ENTRY = 16 * 1024;
