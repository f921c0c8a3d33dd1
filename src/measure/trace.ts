/**
 * `--prune trace`: keep only the files reached (@vercel/nft) from what the handler may load out of the deps, plus
 * native and wasm assets. The handler is one bundled file (its packages are inlined or shipped beside it), so that is
 * an optional backend such as @tensorflow/tfjs-node.
 */
import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { nodeFileTrace } from '@vercel/nft';
import type { FileEntry } from '../types.js';
import type { PruneResult } from './prune.js';

const OPTIONAL_PACKAGES = ['@tensorflow/tfjs-node'] as const;
/** Assets loaded by computed paths that a tracer cannot see: always kept inside a reached package. */
const ASSET = /\.(node|so(\.\d+)*|wasm)$|(^|\/)package\.json$|(^|\/)licen[cs]e[^/]*$/i;

/** Traces from each optional package's entry (and `extraPackages`); `root` is the folder holding node_modules. */
export async function pruneTrace(
  root: string,
  entries: readonly FileEntry[],
  extraPackages: readonly string[] = [],
): Promise<PruneResult> {
  const resolveFrom = createRequire(join(root, 'noop.js'));
  const starts: string[] = [];
  // The handler is one bundled file that imports nothing from the deps: only what else may be loaded is traced.
  for (const name of [...OPTIONAL_PACKAGES, ...extraPackages]) {
    try {
      starts.push(resolveFrom.resolve(name));
    } catch {
      // not installed (optional backend, or provided by a layer): nothing to trace
    }
  }
  const base = realpathSync(root);
  // node_modules may be a symlink (pnpm, a shared install): nft reports real paths, mapped back to node_modules/.
  const realModules = realpathSync(join(root, 'node_modules'));
  const { fileList } = await nodeFileTrace(starts, {
    base: '/',
    processCwd: base,
    conditions: ['node', 'require'],
    exportsOnly: false,
  });
  const reached = new Set<string>();
  for (const file of fileList) {
    const abs = `/${file.split(sep).join('/')}`;
    if (abs.startsWith(`${realModules}/`)) reached.add(`node_modules/${abs.slice(realModules.length + 1)}`);
    else if (abs.startsWith(`${base}/`)) reached.add(abs.slice(base.length + 1));
  }
  // A package is "reached" when any of its files is; its native/wasm assets and manifest stay with it.
  const reachedOwners = new Set(entries.filter((e) => reached.has(e.path)).map((e) => e.owner));
  const kept: FileEntry[] = [];
  const removed: FileEntry[] = [];
  for (const entry of entries) {
    const keep =
      reached.has(entry.path) ||
      (entry.owner !== null && reachedOwners.has(entry.owner) && ASSET.test(entry.path)) ||
      (entry.owner === null && !entry.path.includes('/node_modules/'));
    (keep ? kept : removed).push(entry);
  }
  const bytes = removed.reduce((t, e) => t + e.bytes, 0);
  return {
    mode: 'trace',
    kept,
    removed,
    savedBytes: bytes,
    rules: [{ rule: 'not reached from the handler', files: removed.length, bytes }],
  };
}

export const relativeTo = (root: string, abs: string) => relative(root, abs).split(sep).join('/');
