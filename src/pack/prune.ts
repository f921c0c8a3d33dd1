/** Applies pruning to a deps entry list: `safe` rules, reported per rule with the bytes they save. */
import { readManifestCached } from '../scan/manifest-cache.js';
import type { DepsKind, FileEntry, PruneMode } from '../types.js';
import { protectedPaths, ruleFor, type PruneRule } from './prune-rules.js';

export interface PruneResult {
  readonly mode: PruneMode;
  readonly kept: FileEntry[];
  readonly removed: FileEntry[];
  readonly savedBytes: number;
  readonly rules: { rule: string; files: number; bytes: number }[];
}

/** Applies the safe rules; entry points named by package.json (main/exports/bin/files) and licences are always kept. */
export function pruneSafe(entries: readonly FileEntry[], kind: DepsKind, root: string | null): PruneResult {
  const kept: FileEntry[] = [];
  const removed: FileEntry[] = [];
  const byRule = new Map<PruneRule, { files: number; bytes: number }>();
  const guards = new Map<string, ReturnType<typeof protectedPaths> | null>();
  const pyFiles = kind === 'python' ? new Set(entries.map((e) => e.path)) : null;
  for (const entry of entries) {
    const { pkgDir, inner } = splitPackage(entry, kind);
    let rule = kind === 'none' ? null : ruleFor(inner, kind === 'python' ? 'python' : 'node');
    if (rule && kind === 'node' && root !== null && pkgDir !== null && isProtected(guards, root, pkgDir, inner))
      rule = null;
    // A .pyc whose source is absent is the module itself (sourceless dists): keep it.
    if (rule === 'pycache' && pyFiles && !hasSource(entry.path, pyFiles)) rule = null;
    if (rule === null) {
      kept.push(entry);
    } else {
      removed.push(entry);
      const total = byRule.get(rule) ?? { files: 0, bytes: 0 };
      total.files++;
      total.bytes += entry.bytes;
      byRule.set(rule, total);
    }
  }
  const rules = [...byRule.entries()].map(([rule, t]) => ({ rule, ...t })).sort((a, b) => b.bytes - a.bytes);
  return { mode: 'safe', kept, removed, savedBytes: rules.reduce((s, r) => s + r.bytes, 0), rules };
}

/** No pruning. */
export const pruneOff = (entries: readonly FileEntry[]): PruneResult => ({
  mode: 'off',
  kept: [...entries],
  removed: [],
  savedBytes: 0,
  rules: [],
});

function splitPackage(entry: FileEntry, kind: DepsKind): { pkgDir: string | null; inner: string } {
  if (kind === 'node' && entry.owner) return { pkgDir: entry.owner, inner: entry.path.slice(entry.owner.length + 1) };
  return { pkgDir: null, inner: entry.path };
}

function isProtected(
  cache: Map<string, ReturnType<typeof protectedPaths> | null>,
  root: string,
  pkgDir: string,
  inner: string,
): boolean {
  if (!cache.has(pkgDir)) {
    const manifest = readManifestCached(`${root}/${pkgDir}/package.json`);
    cache.set(pkgDir, manifest ? protectedPaths(manifest) : null);
  }
  const guard = cache.get(pkgDir);
  return guard ? guard.exact.has(inner) || guard.patterns.some((p) => p.test(inner)) : false;
}

function hasSource(pycPath: string, files: Set<string>): boolean {
  // pkg/__pycache__/mod.cpython-36.pyc -> pkg/mod.py ; pkg/mod.pyc -> pkg/mod.py
  const m = /^(.*?)(?:__pycache__\/)?([^/]+?)(?:\.cpython-\d+|\.pypy\d*)?(?:\.opt-\d)?\.py[co]$/.exec(pycPath);
  return m ? files.has(`${m[1]}${m[2]}.py`) : true;
}
