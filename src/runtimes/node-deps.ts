/** Node node_modules: every package folder (scoped and nested) as name@version with its own bytes. */
import { readManifestCached } from './manifest-cache.js';
import type { FileEntry } from '../types.js';
import type { DepsTree, OwnedTree } from './record.js';

/** A package folder: node_modules/<name> or node_modules/@scope/<name>, at any depth. */
const PACKAGE_DIR = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*$/;

/** Groups a walked node_modules (root = the folder holding node_modules, prefix = 'node_modules/') by package. */
export function groupNodePackages(root: string, walked: DepsTree, prefix: string): OwnedTree {
  const dirs = walked.dirs
    .map((d) => prefix + d)
    .filter((d) => PACKAGE_DIR.test(d))
    .sort();
  const info = new Map<string, { name: string; version: string; bytes: number; files: number }>();
  for (const dir of dirs) {
    const manifest = readManifest(`${root}/${dir.slice(prefix.length)}/package.json`);
    if (!manifest) continue; // a folder without package.json (e.g. .bin, .cache) is not a package
    const fallbackName = dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
    info.set(dir, { name: manifest.name ?? fallbackName, version: manifest.version ?? '0.0.0', bytes: 0, files: 0 });
  }
  const entries = walked.entries as {
    path: string;
    owner: string | null;
    bytes: number;
    link: string | null;
  }[] as FileEntry[];
  const unowned = { bytes: 0, files: 0, sample: [] as string[] };
  // Owner per folder, parents first (sorted): a package folder owns itself, any other folder inherits its parent's.
  const dirOwner = new Map<string, string | null>([['', null]]);
  for (const dir of [...walked.dirs].sort()) {
    const full = prefix + dir;
    const cut = dir.lastIndexOf('/');
    dirOwner.set(dir, info.has(full) ? full : (dirOwner.get(cut < 0 ? '' : dir.slice(0, cut)) ?? null));
  }
  for (const entry of walked.entries) {
    const cut = entry.path.lastIndexOf('/');
    const ownerDir = dirOwner.get(cut < 0 ? '' : entry.path.slice(0, cut)) ?? null;
    const path = prefix + entry.path;
    const owner = ownerDir ? info.get(ownerDir)! : null;
    if (owner) {
      owner.bytes += entry.bytes;
      if (entry.link === null) owner.files++;
    } else if (entry.link === null) {
      unowned.bytes += entry.bytes;
      unowned.files++;
      if (unowned.sample.length < 5) unowned.sample.push(path);
    }
    // The walker's entries are fresh objects owned by this scan: updated in place (no copy of 30k+ objects).
    const mutable = entry as { path: string; owner: string | null };
    mutable.path = path;
    mutable.owner = ownerDir;
  }
  const packages = [...info.entries()].map(([path, p]) => ({
    name: p.name,
    version: p.version,
    path,
    bytes: p.bytes,
    files: p.files,
    topLevel: [p.name],
  }));
  return { packages, entries, unowned };
}

function readManifest(file: string): { name?: string; version?: string } | null {
  return readManifestCached(file) as { name?: string; version?: string } | null;
}
