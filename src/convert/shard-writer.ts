import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** TF.js's converter default shard size (4 MiB): small enough for browser caches, large enough for few requests. */
export const SHARD_BYTES = 4_194_304;

/** Shard file names for `totalBytes` of weights, as the Python converter names them. */
export function shardNames(totalBytes: number, shardBytes = SHARD_BYTES): string[] {
  const count = Math.ceil(totalBytes / shardBytes);
  return Array.from({ length: count }, (_, index) => `group1-shard${index + 1}of${count}.bin`);
}

/** Streams weight bytes into consecutive shards; a tensor may straddle two shards (TF.js concatenates them on load). */
export interface ShardWriter {
  readonly write: (bytes: Uint8Array) => Promise<void>;
  readonly close: () => Promise<number>;
}

/** Opens a writer for the given shard names inside `dir`. */
export function createShardWriter(dir: string, names: readonly string[], shardBytes = SHARD_BYTES): ShardWriter {
  let index = -1;
  let handle: FileHandle | undefined;
  let room = 0;
  let written = 0;
  const next = async () => {
    await handle?.close();
    index++;
    if (index >= names.length) throw new Error(`shard writer: more bytes than the ${names.length} shards planned`);
    handle = await open(join(dir, names[index]), 'w');
    room = shardBytes;
  };
  return {
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.length) {
        if (room === 0) await next();
        const take = Math.min(room, bytes.length - offset);
        await handle!.write(bytes, offset, take);
        offset += take;
        room -= take;
        written += take;
      }
    },
    async close() {
      await handle?.close();
      return written;
    },
  };
}
