/**
 * What a layer provides, from its file list (docs/design.md §4): each runtime record matches its layer folders for
 * any version (`layers.anyRoot`, e.g. nodejs/nodeNN/node_modules), so a layer built for any runtime is read; which of
 * those folders a function loads is decided later, by its runtime (pipeline/runtime-checks.ts).
 */
import { posix } from 'node:path';
import { runtimeRecords } from '../runtimes/registry.js';
import type { RuntimeRecord } from '../runtimes/record.js';
import type { ProvidedPackage } from '../types.js';

/** The record whose layer folder holds `path`, with the folder and the path below it; null outside every folder. */
function splitLayerPath(path: string): { record: RuntimeRecord; root: string; rest: string[] } | null {
  for (const record of runtimeRecords()) {
    const match = record.layers.anyRoot.exec(path);
    if (match) return { record, root: match[0].replace(/\/$/, ''), rest: path.slice(match[0].length).split('/') };
  }
  return null;
}

/** Names of the small metadata files a provides-scan needs to read (package.json, top_level.txt, METADATA). */
export function isMetadataPath(path: string): boolean {
  const split = splitLayerPath(path);
  return split !== null && split.record.layers.isMetadata(split.rest);
}

/**
 * Builds the provided-package list from every path in the layer and the metadata files' contents. Each package keeps
 * the layer folder it sits in (`root`): which of them a function loads depends on its runtime.
 */
export function providedPackages(
  paths: Iterable<string>,
  readMeta: (path: string) => string | undefined,
): ProvidedPackage[] {
  const byRecord = new Map<RuntimeRecord, { root: string; rest: string[] }[]>();
  for (const path of paths) {
    const split = splitLayerPath(path);
    if (!split) continue;
    const list = byRecord.get(split.record) ?? [];
    list.push({ root: split.root, rest: split.rest });
    byRecord.set(split.record, list);
  }
  const out = [...byRecord].flatMap(([record, list]) => record.layers.provided(list, readMeta));
  return out.sort((a, b) => a.name.localeCompare(b.name) || (a.root ?? '').localeCompare(b.root ?? ''));
}

export const layerPathDepth = (path: string) => posix.normalize(path).split('/').length;
