import { open } from 'node:fs/promises';
import { fsError, inputError } from '../lib/errors.js';
import { openKerasH5 } from './keras-h5.js';
import { openKerasV3 } from './keras-v3.js';
import type { KerasSource } from './types.js';

/** Opens a Keras model, telling `.h5` (HDF5) from `.keras` (zip) by content, not by extension. */
export async function openKeras(path: string): Promise<KerasSource> {
  const magic = await readMagic(path);
  if (magic.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return openKerasV3(path);
  if (magic.length === 0)
    throw inputError(`${path}: empty file`, 'the file was not written completely: save or copy the model again');
  // anything else goes to the HDF5 reader, whose signature check names the problem (user blocks put it past byte 0)
  return openKerasH5(path);
}

async function readMagic(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory())
      throw inputError(
        `${path}: is a folder`,
        'pass a Keras .h5 or .keras file (a TF.js model folder needs no conversion)',
      );
    const buffer = Buffer.alloc(8);
    const { bytesRead } = await handle.read(buffer, 0, 8, 0);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    if ((error as Error).name === 'LambdaMlError') throw error;
    throw fsError(error, path);
  } finally {
    await handle?.close();
  }
}
