/** The zip safety checks (src/lib/zip-safety.ts) on a layer read by range requests: the same refusals as locally. */
import { formatInt } from '../lib/bytes.js';
import { inputError, LambdaMlError } from '../lib/errors.js';
import { checkLinkTarget, checkZipEntry, checkZipTotal, MAX_LINK_TARGET_BYTES } from '../lib/zip-safety.js';
import type { ZipProblem } from '../lib/zip-safety.js';
import type { RangeReader } from './range-reader.js';
import { readRemoteEntry, type RemoteZipListing } from './remote-zip.js';

/** Throws an input error (exit 2) naming `label` and the entry when the layer's zip is unsafe; reads only symlinks. */
export async function checkRemoteLayer(reader: RangeReader, listing: RemoteZipListing, label: string): Promise<void> {
  const refuse = (problem: ZipProblem) => inputError(`${label}: ${problem.message}`, problem.hint);
  for (const entry of listing.entries) {
    const problem = checkZipEntry(entry);
    if (problem) throw refuse(problem);
  }
  const total = checkZipTotal(listing.bytes, listing.zipBytes);
  if (total) throw refuse(total);
  const links = listing.entries.filter((entry) => entry.isSymlink);
  for (const link of links) {
    if (link.bytes <= MAX_LINK_TARGET_BYTES) continue;
    const message = `${label}: entry "${link.name}" is a symlink with a ${formatInt(link.bytes)}-byte target`;
    throw inputError(message, 'rebuild the layer zip: a link target is a short path');
  }
  // a few reads at a time: each link is one small range read
  for (let i = 0; i < links.length; i += 8) {
    const batch = links.slice(i, i + 8);
    const targets = await Promise.all(
      batch.map(async (link) => [link.name, await readTarget(reader, link, label)] as const),
    );
    for (const [name, target] of targets) {
      const problem = checkLinkTarget(name, target);
      if (problem) throw refuse(problem);
    }
  }
}

type Entry = RemoteZipListing['entries'][number];

async function readTarget(reader: RangeReader, link: Entry, label: string): Promise<string> {
  try {
    return (await readRemoteEntry(reader, link)).toString('utf8');
  } catch (error) {
    if (error instanceof LambdaMlError) throw error;
    const message = `${label}: cannot read symlink entry "${link.name}" (${(error as Error).message})`;
    throw inputError(message, 'rebuild the layer zip', error);
  }
}
