import { open } from 'node:fs/promises';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';
import { fsError, inputError } from '../lib/errors.js';

export type { Dataset, H5File, Group };

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]); // "\x89HDF\r\n\x1a\n"
// HDF5 allows a user block before the superblock: the signature sits at 0, 512, 1024, 2048, ...
const SIGNATURE_OFFSETS = [0, 512, 1024, 2048, 4096, 8192];

/**
 * Checks the HDF5 signature and the end-of-file address stored in the superblock before libhdf5 sees the
 * file, so bad input gets one clear line instead of libhdf5's error stack on stderr.
 */
export async function checkHdf5(path: string, label = path): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fsError(error, label);
  }
  try {
    const size = (await handle.stat()).size;
    const header = Buffer.alloc(64);
    for (const offset of SIGNATURE_OFFSETS) {
      if (offset >= size) break;
      const { bytesRead } = await handle.read(header, 0, 64, offset);
      if (bytesRead < 8 || !header.subarray(0, 8).equals(SIGNATURE)) continue;
      const storedEnd = superblockEnd(header, bytesRead);
      if (storedEnd === undefined || offset + storedEnd > size) {
        const need = storedEnd === undefined ? 'a complete superblock' : `${offset + storedEnd} bytes`;
        throw inputError(
          `${label}: truncated HDF5 file (${size} bytes, the header says ${need})`,
          'the file was cut short (interrupted download or copy): copy it again',
        );
      }
      return;
    }
    throw inputError(
      `${label}: not an HDF5 file (no HDF5 signature)`,
      'pass a Keras model saved with model.save("model.h5") or model.save("model.keras")',
    );
  } finally {
    await handle.close();
  }
}

/** End-of-file address (base + stored EOF) from a superblock, or undefined when the header is cut short. */
function superblockEnd(header: Buffer, length: number): number | undefined {
  const version = header[8];
  let offsetSize: number;
  let baseAt: number;
  let eofAt: number;
  if (version === 0 || version === 1) {
    offsetSize = header[13];
    baseAt = version === 0 ? 24 : 28;
    eofAt = baseAt + 2 * offsetSize; // base, free-space info, then end-of-file address
  } else {
    offsetSize = header[9];
    baseAt = 12;
    eofAt = baseAt + 2 * offsetSize; // base, superblock extension, then end-of-file address
  }
  if (offsetSize !== 8 && offsetSize !== 4) return undefined;
  if (length < eofAt + offsetSize) return undefined;
  const read = (at: number) => (offsetSize === 8 ? Number(header.readBigUInt64LE(at)) : header.readUInt32LE(at));
  return read(baseAt) + read(eofAt);
}

type H5wasm = typeof import('h5wasm/node').default;
let loading: Promise<H5wasm> | undefined;
let h5wasm: H5wasm;

/** The part of h5wasm's emscripten module its own `Dataset.slice` reads with (hdf5_util_helpers.d.ts). */
export interface H5Module {
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  get_dataset_data(
    fileId: bigint,
    path: string,
    count: bigint[],
    offset: bigint[],
    strides: bigint[],
    pointer: bigint,
  ): number;
}
let module: H5Module | undefined;

/** h5wasm's module once h5Ready() resolved (for reads into a reused buffer), else undefined. */
export const h5Module = () => module;

/**
 * Loads and initialises h5wasm on first use: its 4 MB module (wasm inlined) is slow to import, so commands
 * that never touch a Keras file should not pay for it.
 */
export async function h5Ready(): Promise<H5wasm> {
  loading ??= import('h5wasm/node').then(async (imported) => {
    module = (await imported.default.ready) as unknown as H5Module;
    h5wasm = imported.default;
    return h5wasm;
  });
  return loading;
}

/**
 * Opens an HDF5 file read-only through h5wasm's Node build (NODERAWFS: reads the host file lazily, dataset by dataset).
 */
export async function openHdf5(path: string, label = path): Promise<H5File> {
  await checkHdf5(path, label);
  await h5Ready();
  try {
    return new h5wasm.File(path, 'r');
  } catch (error) {
    throw inputError(
      `${label}: cannot open as HDF5 (${(error as Error).message})`,
      'check that the file is a complete Keras model',
      error,
    );
  }
}

/** Reads a string attribute (Keras stores JSON and versions as fixed or variable length strings). */
export function stringAttr(node: Group, name: string): string | undefined {
  const attr = node.attrs[name];
  if (!attr) return undefined;
  const value = attr.value;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return value == null ? undefined : String(value);
}

/** Reads a string-list attribute such as `layer_names` / `weight_names` (an empty list comes back as a float array). */
export function stringListAttr(node: Group, name: string): string[] | undefined {
  const attr = node.attrs[name];
  if (!attr) return undefined;
  const value = attr.value;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value))
    return value.map((item) => (item instanceof Uint8Array ? new TextDecoder().decode(item) : String(item)));
  return [];
}

/** Returns the child if it is a dataset. */
export function getDataset(group: Group, path: string): Dataset | undefined {
  const entity = safeGet(group, path);
  return entity instanceof h5wasm.Dataset ? entity : undefined;
}

/** Returns the child if it is a group. */
export function getGroup(group: Group, path: string): Group | undefined {
  const entity = safeGet(group, path);
  return entity instanceof h5wasm.Group ? entity : undefined;
}

function safeGet(group: Group, path: string) {
  // get() returns null for a missing path (get_type checks link existence first, so libhdf5 prints nothing)
  return group.get(path);
}
