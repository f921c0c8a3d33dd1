/**
 * Layer stripping (docs/design.md §6): packages a layer provides leave the deps; version mismatches are
 * warnings. PURE.
 */
import type { HandlerProvided, PackageMatch } from '../runtimes/record.js';
import {
  HANDLER_PROVIDER,
  type FileEntry,
  type LayerScan,
  type PackageInfo,
  type PackageReport,
  type ProvidedPackage,
  type Scan,
} from '../types.js';

export interface StripResult {
  readonly packages: readonly PackageReport[]; // every package, with providedBy set when stripped
  readonly kept: readonly FileEntry[]; // deps entries that stay
  readonly strippedPaths: ReadonlySet<string>; // package paths left to a layer
  readonly warnings: readonly string[];
  readonly mismatches: readonly { name: string; ours: string; layer: string; layerVersion: string }[];
  readonly afterStrip: number;
}

type Lookup = Map<string, { layer: LayerScan; pkg: ProvidedPackage }>;

/**
 * Removes the deps that a layer provides, matched the way the runtime's record says (Node by package name, Python by
 * distribution or top-level import name): only layer packages of the deps' own kind count. `handler`: the packages
 * the emitted handler brings itself (the Node bundle), stripped with providedBy "handler".
 */
export function stripLayers(
  scan: Pick<Scan, 'deps' | 'layers'>,
  match: PackageMatch,
  handler: readonly Pick<HandlerProvided, 'path' | 'version'>[] = [],
): StripResult {
  const { deps, layers } = scan;
  const byHandler = new Map(handler.map((h) => [h.path, h]));
  const lookup: Lookup = new Map();
  for (const layer of layers) {
    for (const pkg of layer.provides) {
      if (pkg.kind !== deps.kind) continue;
      for (const key of match.providedKeys(pkg)) if (!lookup.has(key)) lookup.set(key, { layer, pkg });
    }
  }
  const warnings: string[] = [];
  const mismatches: StripResult['mismatches'][number][] = [];
  const strippedPaths = new Set<string>();
  const packages: PackageReport[] = [];
  const sorted = [...deps.packages].sort((a, b) => a.path.length - b.path.length);
  for (const pkg of sorted) {
    // The handler's own copy is what runs: reported as provided by it, never a version mismatch.
    const ours = byHandler.get(pkg.path);
    if (ours) {
      strippedPaths.add(pkg.path);
      packages.push({ ...pkg, providedBy: HANDLER_PROVIDER, layerVersion: ours.version });
      continue;
    }
    const found = matchLayer(pkg, match, lookup);
    const insideStripped = match.nests && [...strippedPaths].some((p) => pkg.path.startsWith(`${p}/`));
    // Only top-level packages are stripped: a nested copy exists because its parent needs another version.
    if (insideStripped || (found && match.isTopLevel(pkg.path))) {
      strippedPaths.add(pkg.path);
      const layerVersion = found?.pkg.version ?? null;
      if (found && layerVersion !== null && layerVersion !== pkg.version) {
        mismatches.push({ name: pkg.name, ours: pkg.version, layer: found.layer.name, layerVersion });
        warnings.push(
          `${pkg.name}: deps have ${pkg.version}, layer ${found.layer.name} ` +
            `provides ${layerVersion}; the layer's version is what runs`,
        );
      }
      packages.push({
        ...pkg,
        providedBy: found?.layer.name ?? packages.find((p) => pkg.path.startsWith(`${p.path}/`))?.providedBy ?? null,
        layerVersion,
      });
    } else {
      packages.push({ ...pkg, providedBy: null, layerVersion: null });
    }
  }
  const kept = deps.entries.filter((entry) => entry.owner === null || !strippedPaths.has(entry.owner));
  const afterStrip = kept.reduce((total, entry) => total + entry.bytes, 0);
  packages.sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path));
  return { packages, kept, strippedPaths, warnings, mismatches, afterStrip };
}

function matchLayer(pkg: PackageInfo, match: PackageMatch, lookup: Lookup) {
  for (const key of match.depKeys(pkg)) {
    const found = lookup.get(key);
    if (found) return found;
  }
  return undefined;
}
