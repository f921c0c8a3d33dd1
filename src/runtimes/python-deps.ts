/** Python `pip install -t` trees: each *.dist-info owns the files its RECORD lists (PEP 376/627). */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { FileEntry, PackageInfo } from '../types.js';
import type { DepsTree, OwnedTree } from './record.js';

const absPath = (root: string, rel: string) => join(root, ...rel.split('/'));

/** PEP 503 normalisation: "Keras_Preprocessing" -> "keras-preprocessing". */
export const normalizeName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** Splits "python_dateutil-2.8.0.dist-info" into name and version (the name never contains '-' in a wheel dir name). */
export function parseDistInfoDir(dir: string): { name: string; version: string } | null {
  const match = /^(.+?)-([^-]+)\.(?:dist-info|egg-info)$/.exec(posix.basename(dir));
  return match ? { name: match[1], version: match[2] } : null;
}

/** Groups a walked site-packages tree by distribution, through each dist-info's RECORD and top_level.txt. */
export function groupPythonPackages(root: string, walked: DepsTree): OwnedTree {
  const owners = new Map<string, string>(); // file path -> dist-info dir
  const dists = new Map<string, { name: string; version: string; bytes: number; files: number; topLevel: string[] }>();
  for (const dir of walked.dirs) {
    if (dir.includes('/') || !/\.(dist-info|egg-info)$/.test(dir)) continue;
    const parsed = parseDistInfoDir(dir);
    if (!parsed) continue;
    const meta = readText(absPath(root, `${dir}/METADATA`)) ?? readText(absPath(root, `${dir}/PKG-INFO`));
    const name = (meta && /^Name:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.name;
    const version = (meta && /^Version:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.version;
    const topLevel = (readText(absPath(root, `${dir}/top_level.txt`)) ?? '')
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
    dists.set(dir, { name, version, bytes: 0, files: 0, topLevel });
    for (const path of recordPaths(root, dir)) if (!owners.has(path)) owners.set(path, dir);
  }
  const entries: FileEntry[] = [];
  const unowned = { bytes: 0, files: 0, sample: [] as string[] };
  for (const entry of walked.entries) {
    const owner =
      owners.get(entry.path) ??
      (entry.path.startsWith(entry.path.split('/')[0] + '/') && dists.has(entry.path.split('/')[0])
        ? entry.path.split('/')[0]
        : null);
    if (owner) {
      const dist = dists.get(owner)!;
      dist.bytes += entry.bytes;
      if (entry.link === null) dist.files++;
    } else if (entry.link === null) {
      unowned.bytes += entry.bytes;
      unowned.files++;
      if (unowned.sample.length < 5) unowned.sample.push(entry.path);
    }
    entries.push({ ...entry, owner });
  }
  const packages: PackageInfo[] = [...dists.entries()].map(([path, d]) => ({
    name: d.name,
    version: d.version,
    path,
    bytes: d.bytes,
    files: d.files,
    topLevel: d.topLevel,
  }));
  return { packages, entries, unowned };
}

/** RECORD lines are CSV "path,hash,size"; paths are relative to site-packages and may be quoted. */
function recordPaths(root: string, dir: string): string[] {
  const record = readText(absPath(root, `${dir}/RECORD`));
  if (record !== null) {
    return record
      .split(/\r?\n/)
      .filter(Boolean)
      .map((line) => {
        const path = line.startsWith('"')
          ? line.slice(1, line.indexOf('"', 1)).replace(/""/g, '"')
          : line.slice(0, line.indexOf(',') < 0 ? undefined : line.indexOf(','));
        return posix.normalize(path);
      })
      .filter((p) => !p.startsWith('../'));
  }
  const installed = readText(absPath(root, `${dir}/installed-files.txt`)); // legacy egg-info
  return installed === null
    ? []
    : installed
        .split(/\r?\n/)
        .filter(Boolean)
        .map((p) => posix.normalize(posix.join(dir, p)))
        .filter((p) => !p.startsWith('../'));
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
