/**
 * What an unpacked tree takes on disk, not in file bytes: Lambda's /tmp counts 4 KiB blocks, and 7,013 files of 86 MiB
 * took 106.8 MiB there (docs/design.md §2). `package` records this figure; the handler checks free space against it.
 */

/** The block size of Lambda's /tmp (and of ext4 and tmpfs on x86_64 and arm64 Linux). */
export const BLOCK_BYTES = 4096;
// ext4 keeps symlink targets shorter than 60 bytes in the inode ("fast symlinks"); longer ones take a block.
const INLINE_LINK_BYTES = 60;
// An ext4 directory entry: 8 bytes of header plus the name, padded to 4 bytes.
const direntBytes = (name: string) => 8 + Math.ceil(Buffer.byteLength(name) / 4) * 4;

const blocks = (bytes: number) => Math.ceil(bytes / BLOCK_BYTES) * BLOCK_BYTES;
// A folder whose entries fill more than one block becomes an ext4 hash tree: an index block, and leaf blocks that
// split when full and so stay about two thirds used (2,000 short names: 40 KB of entries in 60 KiB).
const folderBytes = (entryBytes: number) =>
  entryBytes + 24 <= BLOCK_BYTES ? BLOCK_BYTES : BLOCK_BYTES + blocks(Math.ceil((entryBytes * 3) / 2));

/** One unpacked entry as disk usage sees it: a file of `bytes`, a folder, or a symlink to `link`. */
export interface DiskEntry {
  readonly path: string; // '/'-separated, relative; a folder may end in '/'
  readonly kind: 'file' | 'dir' | 'symlink';
  readonly bytes?: number; // file size
  readonly link?: string; // symlink target
}

/**
 * The bytes a tree takes once unpacked into an empty folder: every file rounded up to whole blocks, every long
 * symlink one block, and every folder (the root and those the paths imply) the blocks its entries need. An upper
 * bound on tmpfs (where folders take no blocks) and, a little above, on ext4 (`du -sB1`).
 */
export function diskUsage(entries: readonly DiskEntry[]): number {
  const folders = new Map<string, number>([['', 0]]); // folder -> bytes of its directory entries
  const addTo = (path: string) => {
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    const known = folders.has(parent);
    folders.set(parent, (folders.get(parent) ?? 0) + direntBytes(path.slice(slash + 1)));
    if (!known) addTo(parent); // a folder the paths only imply is an entry of its own parent
  };
  let total = 0;
  for (const entry of entries) {
    const path = entry.path.replace(/\/+$/, '');
    if (path === '') continue;
    if (entry.kind === 'dir') {
      if (!folders.has(path)) {
        folders.set(path, 0);
        addTo(path);
      }
      continue;
    }
    addTo(path);
    if (entry.kind === 'file') total += blocks(entry.bytes ?? 0);
    else if (Buffer.byteLength(entry.link ?? '') >= INLINE_LINK_BYTES) total += BLOCK_BYTES;
  }
  for (const bytes of folders.values()) total += folderBytes(bytes);
  return total;
}
