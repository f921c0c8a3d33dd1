/** Node node_modules: every package folder (scoped and nested) as name@version with its own bytes. */
import { readFileSync } from 'node:fs';
import type { FileEntry, PackageInfo } from '../types.js';
import { absPath, type Walked } from './walk.js';

/** A package folder: node_modules/<name> or node_modules/@scope/<name>, at any depth. */
const PACKAGE_DIR = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*$/;

export interface OwnedTree {
  readonly packages: PackageInfo[];
  readonly entries: FileEntry[];
  readonly unowned: { bytes: number; files: number; sample: string[] };
}

/** Groups a walked node_modules (root = the folder holding node_modules, prefix = 'node_modules/') by package. */
export function groupNodePackages(root: string, walked: Walked, prefix: string): OwnedTree {
  const dirs = walked.dirs.map((d) => prefix + d).filter((d) => PACKAGE_DIR.test(d)).sort();
  const info = new Map<string, { name: string; version: string; bytes: number; files: number }>();
  for (const dir of dirs) {
    const manifest = readManifest(absPath(root, dir.slice(prefix.length) + '/package.json'));
    if (!manifest) continue; // a folder without package.json (e.g. .bin, .cache) is not a package
    const fallbackName = dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
    info.set(dir, { name: manifest.name ?? fallbackName, version: manifest.version ?? '0.0.0', bytes: 0, files: 0 });
  }
  const entries: FileEntry[] = [];
  const unowned = { bytes: 0, files: 0, sample: [] as string[] };
  for (const entry of walked.entries) {
    const path = prefix + entry.path;
    const ownerDir = ownerOf(path, info);
    const owner = ownerDir ? info.get(ownerDir)! : null;
    if (owner) {
      owner.bytes += entry.bytes;
      if (entry.link === null) owner.files++;
    } else if (entry.link === null) {
      unowned.bytes += entry.bytes;
      unowned.files++;
      if (unowned.sample.length < 5) unowned.sample.push(path);
    }
    entries.push({ ...entry, path, owner: ownerDir });
  }
  const packages = [...info.entries()].map(([path, p]) => ({ name: p.name, version: p.version, path, bytes: p.bytes, files: p.files, topLevel: [p.name] }));
  return { packages, entries, unowned };
}

/** The deepest package folder that contains `path`, found by walking up its node_modules segments. */
function ownerOf(path: string, packages: Map<string, unknown>): string | null {
  let at = path.lastIndexOf('node_modules/');
  while (at >= 0) {
    const rest = path.slice(at + 'node_modules/'.length);
    const parts = rest.split('/');
    const depth = parts[0].startsWith('@') ? 2 : 1;
    if (parts.length > depth) {
      const dir = path.slice(0, at) + 'node_modules/' + parts.slice(0, depth).join('/');
      if (packages.has(dir)) return dir;
    }
    at = at === 0 ? -1 : path.lastIndexOf('node_modules/', at - 1);
  }
  return null;
}

function readManifest(file: string): { name?: string; version?: string } | null {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8'));
    return typeof json === 'object' && json ? json : null;
  } catch {
    return null;
  }
}
