/**
 * What the configured Lambda runtime means for a budget (docs/design.md §2): a deprecation warning with the date and
 * the replacement, and the layer packages that sit outside the runtime's module path (they provide nothing there).
 */
import { layerPackageRoots, recordFor } from '../runtimes/registry.js';
import { deprecationNote, runtimeOf, runtimeStatus, type LambdaRuntime } from '../runtimes/table.js';
import type { Config, LayerScan, Scan } from '../types.js';

/** The scan with only the layer packages the runtime loads, and a warning per layer folder it does not load. */
export interface RuntimeView {
  readonly runtime: LambdaRuntime;
  readonly scan: Scan;
  readonly warnings: readonly string[];
}

/** Applies the runtime to a scan: deprecation warning, layer packages on the runtime's module path only. */
export function runtimeView(config: Config, scan: Scan, now: Date = new Date()): RuntimeView {
  const runtime = runtimeOf(config.function.runtime);
  const warnings: string[] = [];
  const note = deprecationNote(runtimeStatus(runtime, now));
  if (note) warnings.push(`function.runtime: ${note}`);
  const layers = scan.layers.map((layer) => {
    const { layer: kept, offPath } = onModulePath(layer, runtime);
    for (const [root, names] of offPath) {
      const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
      const sits = names.length === 1 ? 'sits' : 'sit';
      const looks = layerPackageRoots(runtime)
        .map((r) => `${r}/`)
        .join(' and ');
      warnings.push(
        `layer ${layer.name}: ${shown} ${sits} in ${root}/, which ${runtime.id} does not load ` +
          `(it looks in ${looks}): they are not provided; rebuild the layer for ${runtime.id}`,
      );
    }
    return kept;
  });
  return { runtime, scan: { ...scan, layers }, warnings };
}

/** Keeps the packages of the runtime's record that sit in one of its layer folders (first folder wins on a name). */
function onModulePath(layer: LayerScan, runtime: LambdaRuntime): { layer: LayerScan; offPath: Map<string, string[]> } {
  const roots = layerPackageRoots(runtime);
  const record = recordFor(runtime);
  const offPath = new Map<string, string[]>();
  const seen = new Set<string>();
  const rank = (root: string | undefined) => (root === undefined ? 0 : roots.indexOf(root));
  const sorted = [...layer.provides].sort((a, b) => rank(a.root) - rank(b.root));
  const provides = sorted
    .filter((pkg) => {
      if (pkg.kind !== record.name || pkg.root === undefined) return true; // other runtimes' packages stay as they were
      if (!roots.includes(pkg.root)) {
        offPath.set(pkg.root, [...(offPath.get(pkg.root) ?? []), pkg.name]);
        return false;
      }
      if (seen.has(pkg.name)) return false;
      seen.add(pkg.name);
      return true;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const unchanged = offPath.size === 0 && provides.length === layer.provides.length;
  return { layer: unchanged ? layer : { ...layer, provides }, offPath };
}
