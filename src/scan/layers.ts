/** Measures layers given as local zips (central directory only, never extracted) or folders (docs/design.md §4). */
import { readFileSync, statSync } from 'node:fs';
import yauzl from 'yauzl';
import { formatInt } from '../lib/bytes.js';
import { fsError, inputError, LambdaMlError } from '../lib/errors.js';
import type { LayerConfig, LayerScan } from '../types.js';
import { fastWalk } from './find-walk.js';
import { isMetadataPath, providedPackages } from './layer-provides.js';
import { checkLinkTarget, checkZipEntry, checkZipTotal, MAX_LINK_TARGET_BYTES } from '../lib/zip-safety.js';
import type { ZipProblem } from '../lib/zip-safety.js';
import { absPath } from './walk.js';

/** Scans one configured layer. ARN-only layers are measured by the remote scanner (src/remote). */
export async function scanLayer(layer: LayerConfig): Promise<LayerScan> {
  if (layer.zip) return scanLayerZip(layer.name, layer.zip);
  if (layer.dir) {
    const walked = await fastWalk(layer.dir);
    const paths = walked.entries.map((e) => e.path);
    const provides = providedPackages(paths, (path) => {
      try {
        return readFileSync(absPath(layer.dir as string, path), 'utf8');
      } catch {
        return undefined;
      }
    });
    return {
      name: layer.name,
      source: 'dir',
      location: layer.dir,
      bytes: walked.bytes,
      zipBytes: null,
      files: walked.files,
      provides,
    };
  }
  throw new LambdaMlError(
    'input',
    `layer "${layer.name}" is given only by ARN (${layer.arn})`,
    'add "zip" or "dir" with a local copy, or run with AWS access so lambda-ml can read it by ARN',
  );
}

/** Reads a layer zip's central directory; reads only the small metadata entries' and symlinks' contents. */
export async function scanLayerZip(name: string, file: string): Promise<LayerScan> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw fsError(error, file);
  }
  const label = `${file} (layer "${name}")`;
  const refuse = (problem: ZipProblem) => inputError(`${label}: ${problem.message}`, problem.hint);
  const zip = await openZip(file);
  const paths: string[] = [];
  const meta = new Map<string, string>();
  let bytes = 0;
  let files = 0;
  try {
    await new Promise<void>((done, fail) => {
      zip.on('error', fail);
      zip.on('end', () => done());
      zip.on('entry', (entry: yauzl.Entry) => {
        const problem = checkZipEntry({
          name: entry.fileName,
          bytes: entry.uncompressedSize,
          compressedBytes: entry.compressedSize,
          method: entry.compressionMethod,
          isEncrypted: (entry.generalPurposeBitFlag & 1) === 1,
        });
        if (problem) return fail(refuse(problem));
        const isDir = entry.fileName.endsWith('/');
        const isLink = isSymlinkEntry(entry);
        if (!isDir) {
          bytes += entry.uncompressedSize;
          files++;
          paths.push(entry.fileName);
        }
        if (isLink && entry.uncompressedSize > MAX_LINK_TARGET_BYTES) {
          const message =
            `${label}: entry "${entry.fileName}" is a symlink with ` +
            `a ${formatInt(entry.uncompressedSize)}-byte target`;
          return fail(inputError(message, 'rebuild the layer zip: a link target is a short path'));
        }
        const isMetadata = !isDir && isMetadataPath(entry.fileName) && entry.uncompressedSize < 1_000_000;
        if (!isLink && !isMetadata) return zip.readEntry();
        zip.openReadStream(entry, (error, stream) => {
          if (error) return fail(error);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', fail);
          stream.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const linkProblem = isLink ? checkLinkTarget(entry.fileName, text) : null;
            if (linkProblem) return fail(refuse(linkProblem));
            if (!isLink) meta.set(entry.fileName, text);
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  } catch (error) {
    if (error instanceof LambdaMlError) throw error;
    const message = (error as Error).message;
    if (/^(invalid relative path|absolute path)/.test(message))
      throw inputError(
        `${label}: ${message}: the entry escapes the archive`,
        'rebuild the layer zip with relative paths inside the archive',
      );
    throw inputError(`${label}: corrupt or truncated zip (${message})`, 'rebuild or re-download the layer zip', error);
  } finally {
    zip.close();
  }
  const total = checkZipTotal(bytes, size);
  if (total) throw refuse(total);
  return {
    name,
    source: 'zip',
    location: file,
    bytes,
    zipBytes: size,
    files,
    provides: providedPackages(paths, (p) => meta.get(p)),
  };
}

/** Unix symlink mode in the external attributes (only meaningful when the zip was made on Unix). */
function isSymlinkEntry(entry: yauzl.Entry): boolean {
  return entry.versionMadeBy >> 8 === 3 && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((done, fail) => {
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
      (error, zip) => {
        if (error || !zip)
          fail(
            inputError(
              `${file}: not a zip file or truncated (${error?.message})`,
              'give a layer zip as built by `zip -r` (or point "dir" at a folder)',
              error,
            ),
          );
        else done(zip);
      },
    );
  });
}
