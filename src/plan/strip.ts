/**
 * Layer stripping (docs/design.md §6): packages a layer provides leave the deps; version mismatches are warnings. PURE.
 */
import type { FileEntry, LayerScan, PackageInfo, PackageReport, ProvidedPackage, Scan } from '../types.js';

export interface StripResult {
  readonly packages: readonly PackageReport[]; // every package, with providedBy set when stripped
  readonly kept: readonly FileEntry[]; // deps entries that stay
  readonly strippedPaths: ReadonlySet<string>; // package paths left to a layer
  readonly warnings: readonly string[];
  readonly mismatches: readonly { name: string; ours: string; layer: string; layerVersion: string }[];
  readonly afterStrip: number;
}

/** PEP 503 normalised name. */
const norm = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** Removes the deps that a layer provides: Node by package name, Python by distribution or top-level import name. */
export function stripLayers(scan: Pick<Scan, 'deps' | 'layers'>): StripResult {
  const { deps, layers } = scan;
  const lookup = new Map<string, { layer: LayerScan; pkg: ProvidedPackage }>();
  for (const layer of layers) {
    for (const pkg of layer.provides) {
      if (deps.kind === 'node' && pkg.kind !== 'node') continue;
      if (deps.kind === 'python' && pkg.kind !== 'python') continue;
      const keys = pkg.kind === 'python' ? [norm(pkg.name), ...pkg.topLevel.map((t) => `import:${t}`)] : [pkg.name];
      for (const key of keys) if (!lookup.has(key)) lookup.set(key, { layer, pkg });
    }
  }
  const warnings: string[] = [];
  const mismatches: StripResult['mismatches'][number][] = [];
  const strippedPaths = new Set<string>();
  const packages: PackageReport[] = [];
  const sorted = [...deps.packages].sort((a, b) => a.path.length - b.path.length);
  for (const pkg of sorted) {
    const match = matchLayer(pkg, deps.kind, lookup);
    const insideStripped = deps.kind === 'node' && [...strippedPaths].some((p) => pkg.path.startsWith(`${p}/`));
    // Only top-level Node packages are stripped: a nested copy exists because its parent needs another version.
    const isTopLevel = deps.kind !== 'node' || /^node_modules\/(?:@[^/]+\/)?[^/]+$/.test(pkg.path);
    if (insideStripped || (match && isTopLevel)) {
      strippedPaths.add(pkg.path);
      const layerVersion = match?.pkg.version ?? null;
      if (match && layerVersion !== null && layerVersion !== pkg.version) {
        mismatches.push({ name: pkg.name, ours: pkg.version, layer: match.layer.name, layerVersion });
        warnings.push(
          `${pkg.name}: deps have ${pkg.version}, layer ${match.layer.name} provides ${layerVersion}; the layer's version is what runs`,
        );
      }
      packages.push({
        ...pkg,
        providedBy: match?.layer.name ?? packages.find((p) => pkg.path.startsWith(`${p.path}/`))?.providedBy ?? null,
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

function matchLayer(pkg: PackageInfo, kind: string, lookup: Map<string, { layer: LayerScan; pkg: ProvidedPackage }>) {
  if (kind === 'node') return lookup.get(pkg.name);
  return lookup.get(norm(pkg.name)) ?? pkg.topLevel.map((t) => lookup.get(`import:${t}`)).find(Boolean);
}
