import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { inputError } from '../lib/errors.js';

/** The parts of a Keras 3 `.keras` archive `convert` needs. */
export interface KerasArchive {
  readonly config: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  /** Uncompressed size of model.weights.h5. */
  readonly weightsBytes: number;
  /** Extracts model.weights.h5 to `path` (streamed, so memory stays flat). */
  readonly extractWeights: (path: string) => Promise<void>;
  readonly close: () => void;
}

const NOT_KERAS_HINT =
  'a .keras file is a zip of config.json, metadata.json and ' +
  'model.weights.h5 written by model.save("x.keras"); save it again';

/** Opens a `.keras` zip: reads config.json and metadata.json into memory and leaves the weights for streaming. */
export async function openKerasArchive(path: string, label = path): Promise<KerasArchive> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  } catch (error) {
    throw inputError(`${label}: not a valid .keras archive (${(error as Error).message})`, NOT_KERAS_HINT, error);
  }
  try {
    const entries = await listEntries(zip, label);
    const need = (name: string) => {
      const entry = entries.get(name);
      if (!entry) throw inputError(`${label}: .keras archive has no ${name}`, NOT_KERAS_HINT);
      return entry;
    };
    const config = await readJson(zip, need('config.json'), label);
    const metadata = entries.has('metadata.json') ? await readJson(zip, need('metadata.json'), label) : {};
    const weights = need('model.weights.h5');
    return {
      config,
      metadata,
      weightsBytes: weights.uncompressedSize,
      extractWeights: async (target) => {
        try {
          await pipeline(await zip.openReadStreamPromise(weights), createWriteStream(target));
        } catch (error) {
          throw inputError(
            `${label}: cannot extract model.weights.h5 (${(error as Error).message})`,
            'the archive is damaged or truncated: save the model again',
            error,
          );
        }
      },
      close: () => zip.close(),
    };
  } catch (error) {
    zip.close();
    throw error;
  }
}

function listEntries(zip: ZipFile, label: string): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, Entry>();
    zip.on('entry', (entry: Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (error: Error) =>
      reject(inputError(`${label}: damaged .keras archive (${error.message})`, NOT_KERAS_HINT, error)),
    );
    zip.readEntry();
  });
}

async function readJson(zip: ZipFile, entry: Entry, label: string): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw inputError(
      `${label}: ${entry.fileName} in the archive is unreadable (${(error as Error).message})`,
      NOT_KERAS_HINT,
      error,
    );
  }
}
