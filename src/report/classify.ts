/**
 * Where every scanned byte goes (docs/report.md): each file of code, deps and models is given the artifact it ends
 * up in and its fate. PURE: reads only what `budget` already computed (scan, strip, prune, plan).
 */
import { HANDLER_PROVIDER, type Budget, type FileEntry, type PackageInfo, type Scan, type Strategy } from '../types.js';

/** What happens to a file: shipped as is, left to a layer, pruned, sideloaded into /tmp, or a model file. */
export type Fate = 'kept' | 'layer' | 'pruned' | 'sideloaded' | 'model';
/** The limit a byte counts against; null when it is not shipped. */
export type ReportLimit = 'unzipped' | 'tmp' | null;
export type ArtifactKind = 'function' | 'sideload' | 'layer' | 'model' | 'stripped' | 'pruned';

/** One top-level box of the report: function.zip, the sideload archive, a layer, a model, or what is not shipped. */
export interface ReportArtifact {
  readonly id: string; // 'function', 'sideload', 'layer:<name>', 'model:<name>', 'stripped', 'pruned'
  readonly kind: ArtifactKind;
  readonly name: string;
  readonly fate: Fate;
  readonly limit: ReportLimit;
  readonly note: string;
}

/** The package a file belongs to. */
export interface ReportPackage {
  readonly name: string;
  readonly version: string;
  readonly path: string; // the package folder (Node) or its dist-info (Python), relative to the deps root
  readonly providedBy: string | null; // layer name when a layer provides it
}

/** One classified file. */
export interface ReportFile {
  readonly path: string; // shown path: deps and code relative to their root, models as <model>/<file>
  readonly inner: string; // path inside its package (or inside its artifact when it has none)
  readonly bytes: number;
  readonly source: 'code' | 'deps' | 'model';
  readonly artifact: string; // ReportArtifact id
  readonly package: ReportPackage | null;
}

/** What the report is built from: `runBudget()`'s result fits as it is. */
export interface ReportInput {
  readonly budget: Budget;
  readonly scan: Scan;
  readonly strip: { readonly strippedPaths: ReadonlySet<string> };
  readonly prune: { readonly kept: readonly FileEntry[]; readonly removed: readonly FileEntry[] };
}

export interface Classified {
  readonly strategy: Strategy;
  readonly artifacts: readonly ReportArtifact[];
  readonly files: readonly ReportFile[];
  /** Bytes of the artifact that are not files we know of: the emitted handler, a layer, the deps.zip inside. */
  readonly opaque: readonly { readonly artifact: string; readonly name: string; readonly bytes: number }[];
}

/** The plan the report shows: the chosen one, else (nothing fits) the last attempt, as the human report does. */
export function shownStrategy(budget: Budget): Strategy {
  return budget.plan ?? budget.attempts[budget.attempts.length - 1]?.strategy ?? 'bundle';
}

/** Classifies every file of the scan. Symlinks and empty files are left out (0 bytes, docs/design.md §4). */
export function classifyFiles(input: ReportInput): Classified {
  const { budget, scan } = input;
  const strategy = shownStrategy(budget);
  const sideloading = strategy !== 'bundle';
  const packages = packageIndex(scan.deps.packages, budget);
  const artifacts: ReportArtifact[] = [
    {
      id: 'function',
      kind: 'function',
      name: 'function.zip',
      fate: 'kept',
      limit: 'unzipped',
      note: 'the function zip, unzipped',
    },
  ];
  if (sideloading && input.prune.kept.length > 0) {
    const where = strategy === 'sideload-s3' ? 'fetched from S3' : 'inside function.zip';
    artifacts.push({
      id: 'sideload',
      kind: 'sideload',
      name: 'deps (sideloaded)',
      fate: 'sideloaded',
      limit: 'tmp',
      note: `the sideload archive (${where}), extracted into /tmp at cold start`,
    });
  }
  for (const layer of scan.layers) {
    artifacts.push({
      id: `layer:${layer.name}`,
      kind: 'layer',
      name: `layer ${layer.name}`,
      fate: 'layer',
      limit: 'unzipped',
      note: `a Lambda layer (${layer.source})`,
    });
  }
  for (const model of scan.models) {
    artifacts.push({
      id: `model:${model.name}`,
      kind: 'model',
      name: `model ${model.name}`,
      fate: 'model',
      limit: model.location === 'bundle' ? 'unzipped' : 'tmp',
      note: model.location === 'bundle' ? 'a model bundled in function.zip' : 'a model fetched from S3 into /tmp',
    });
  }
  const files: ReportFile[] = [];
  const depsArtifact = sideloading ? 'sideload' : 'function';
  const isStripped = (e: FileEntry) => e.owner !== null && input.strip.strippedPaths.has(e.owner);
  const stripped: FileEntry[] = scan.deps.entries.filter(isStripped);
  const add = (entries: readonly FileEntry[], artifact: string) => {
    for (const entry of entries) {
      if (entry.link === null && entry.bytes > 0) files.push(depsFile(entry, artifact, packages));
    }
  };
  add(input.prune.kept, depsArtifact);
  if (stripped.length > 0) {
    // Stripped for a layer, or because the handler bundle inlines them (the Node handler: TF.js, the S3 client).
    const providers = new Set(budget.components.deps.packages.map((p) => p.providedBy).filter((by) => by !== null));
    const byHandler = providers.has(HANDLER_PROVIDER);
    const byLayer = [...providers].some((by) => by !== HANDLER_PROVIDER);
    const [name, note] =
      byHandler && !byLayer
        ? ['in the handler', 'packages of your deps the handler bundle brings itself: not shipped again']
        : byHandler
          ? ['left to layers and the handler', 'packages a layer provides or the handler bundle brings: not shipped']
          : ['left to layers', "packages of your deps that a layer provides: not shipped, the layer's copy runs"];
    artifacts.push({ id: 'stripped', kind: 'stripped', name, fate: 'layer', limit: null, note });
    add(stripped, 'stripped');
  }
  if (input.prune.removed.some((e) => e.link === null && e.bytes > 0)) {
    artifacts.push({
      id: 'pruned',
      kind: 'pruned',
      name: 'pruned',
      fate: 'pruned',
      limit: null,
      note: `removed by pruning ("prune": "${budget.prune.mode}"): not shipped`,
    });
    add(input.prune.removed, 'pruned');
  }
  for (const entry of scan.code.entries) {
    if (entry.link === null && entry.bytes > 0) {
      files.push({
        path: entry.path,
        inner: `code/${entry.path}`,
        bytes: entry.bytes,
        source: 'code',
        artifact: 'function',
        package: null,
      });
    }
  }
  for (const model of scan.models) {
    const paths = model.files.map((f) => f.path.replace(/\\/g, '/'));
    const base = commonDir(paths);
    for (const [i, file] of model.files.entries()) {
      const rel = paths[i].slice(base.length);
      if (file.bytes <= 0) continue;
      files.push({
        path: `${model.name}/${rel}`,
        inner: rel,
        bytes: file.bytes,
        source: 'model',
        artifact: `model:${model.name}`,
        package: null,
      });
    }
  }
  return { strategy, artifacts, files, opaque: opaqueParts(input, strategy) };
}

function opaqueParts(input: ReportInput, strategy: Strategy): Classified['opaque'] {
  const { budget, scan } = input;
  const parts: { artifact: string; name: string; bytes: number }[] = [];
  const handlerBytes = budget.components.code.bytes - scan.code.bytes;
  if (handlerBytes > 0) parts.push({ artifact: 'function', name: 'lambda-ml handler (emitted)', bytes: handlerBytes });
  // sideload-bundled: the unzipped limit sees the deps archive (tar.br or level-9 zip) that function.zip holds
  // (docs/budget.md).
  const { deps } = budget.components;
  const zipBytes = deps.archiveBytes ?? deps.zipBytes;
  if (strategy === 'sideload-bundled' && zipBytes !== null && zipBytes !== undefined && zipBytes > 0) {
    const name = deps.format === 'tar.br' ? 'deps.tar.br (brotli 9)' : 'deps.zip (level 9)';
    parts.push({ artifact: 'function', name, bytes: zipBytes });
  }
  for (const layer of scan.layers) {
    if (layer.bytes > 0) parts.push({ artifact: `layer:${layer.name}`, name: 'layer contents', bytes: layer.bytes });
  }
  return parts;
}

function packageIndex(infos: readonly PackageInfo[], budget: Budget): Map<string, ReportPackage> {
  const providedBy = new Map(budget.components.deps.packages.map((p) => [p.path, p.providedBy]));
  return new Map(
    infos.map((p) => {
      const pkg: ReportPackage = {
        name: p.name,
        version: p.version,
        path: p.path,
        providedBy: providedBy.get(p.path) ?? null,
      };
      return [p.path, pkg];
    }),
  );
}

function depsFile(entry: FileEntry, artifact: string, packages: Map<string, ReportPackage>): ReportFile {
  const pkg = entry.owner === null ? null : (packages.get(entry.owner) ?? null);
  // A Node package owns its folder; a Python distribution owns paths anywhere in the tree (RECORD).
  const inner = pkg && entry.path.startsWith(`${pkg.path}/`) ? entry.path.slice(pkg.path.length + 1) : entry.path;
  return { path: entry.path, inner, bytes: entry.bytes, source: 'deps', artifact, package: pkg };
}

/** The longest common folder prefix of some paths, with its trailing '/' ('' when none). */
export function commonDir(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  const split = (p: string) => p.split('/').slice(0, -1);
  let prefix = split(paths[0]);
  for (const path of paths.slice(1)) {
    const parts = split(path);
    let i = 0;
    while (i < prefix.length && i < parts.length && prefix[i] === parts[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix.length ? `${prefix.join('/')}/` : '';
}
