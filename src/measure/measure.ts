/**
 * The measure stage (docs/design.md §4), between scan and the pure planner: strips what layers and the handler
 * provide, prunes the rest, lists what `package` adds at the function root, and measures the exact archives a
 * decision needs (level 9, deflated in a stream, nothing written). For `package` it writes them into `keepIn`
 * instead: the deps archive is then the artifact itself, and function.zip a draft whose entries the final
 * function.zip copies and which it replaces (each file deflated once; a full disk names a file the user knows).
 */
import { join } from 'node:path';
import { cacheRoot } from '../lib/npm-install.js';
import type { ArchiveEntry } from '../archive/archive-entry.js';
import {
  measureArchive,
  writeArchive,
  type ArchiveFormat,
  type ArchiveOptions,
  type ArchiveResult,
} from '../archive/archive.js';
import type { ReusableZip } from '../archive/zip-writer.js';
import { attempt, type PlanInput } from '../plan/attempt.js';
import { stripLayers, type StripResult } from '../plan/strip.js';
import type { RuntimeRecord } from '../runtimes/record.js';
import { STRATEGY, type Config, type Scan } from '../types.js';
import { entriesToInputs } from './archive-entries.js';
import { inputBytes } from './entry-bytes.js';
import { nativeEntries, type NativeOptions } from './native-packages.js';
import { nativesFor } from './native-onnx.js';
import { pruneOff, pruneSafe, type PruneResult } from './prune.js';

export interface MeasureOptions extends NativeOptions {
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** Write the measured archives into this folder (KEPT_FILES), for package to reuse. */
  readonly keepIn?: string;
}

/** What the planner needs, and what package builds the artifacts from. */
export interface Measured {
  readonly strip: StripResult;
  readonly prune: PruneResult;
  /** The handler's native packages for the function's CPU (node_modules/sharp/...), counted with the handler. */
  readonly natives: readonly ArchiveEntry[];
  /** Everything package adds at the function root besides the user's code: the record's files and the natives. */
  readonly emitted: readonly ArchiveEntry[];
  /** code + emitted as a zip. */
  readonly code: ArchiveResult;
  /** The pruned deps as the sideload archive, when a decision needed it (kept as the artifact with keepIn). */
  readonly deps: ArchiveResult | null;
  /** code + emitted + deps as a zip, when bundle is still possible. */
  readonly bundle: ArchiveResult | null;
  /** With keepIn: the draft function.zip (the bundle zip, else the code zip) whose entries package copies. */
  readonly draft: ReusableZip | null;
  /** The planner's input, every measured size filled in. */
  readonly input: PlanInput;
}

/** The file names of what `keepIn` receives: package replaces the draft with its own function.zip. */
export const KEPT_FILES = {
  draft: 'function.zip',
  deps: { zip: 'deps.zip', 'tar.br': 'deps.tar.br' },
} as const;

/** Prunes, lists and measures: scan -> measure -> plan (docs/design.md §4). */
export async function measureProject(
  config: Config,
  scan: Scan,
  record: RuntimeRecord,
  options: MeasureOptions = {},
): Promise<Measured> {
  // Packages the handler brings itself (inlined in the Node bundle) leave the deps like layer-provided ones.
  const strip = stripLayers(scan, record.match, record.handlerProvides(scan.deps));
  const prune = await pruneDeps(config, scan, record, strip);
  // onnxruntime-node only when some model runs on onnx (scan.models[].backend, pipeline/model-backends.ts).
  const names = nativesFor(record.handlerNatives(), scan.models);
  const natives = await nativeEntries(names, config.function.architecture, options);
  const emitted = [...record.emitted(), ...natives];
  const codeEntries = [...(scan.code.root ? entriesToInputs(scan.code.root, scan.code.entries) : []), ...emitted];
  const depsEntries = () => (scan.deps.root ? entriesToInputs(scan.deps.root, prune.kept) : []);
  const archive = (entries: readonly ArchiveEntry[], format: ArchiveFormat, file: string, more: ArchiveOptions) => {
    const common = { signal: options.signal, cacheDir: deflateCacheDir(options.env), ...more };
    return options.keepIn
      ? writeArchive(entries, join(options.keepIn, file), format, { ...common, keep: format === 'zip' })
      : measureArchive(entries, format, common);
  };
  const code = await archive(codeEntries, 'zip', KEPT_FILES.draft, {});
  const base: PlanInput = {
    scan,
    config,
    strip,
    handlerBytes: inputBytes(emitted),
    handlerFiles: emitted.filter((e) => e.kind === 'file').length,
    prune: { mode: prune.mode, savedBytes: prune.savedBytes, rules: prune.rules },
    codeZipBytes: code.bytes,
    depsZipBytes: null,
    bundleZipBytes: null,
    runtime: record,
  };
  // Which sizes a decision needs: the deps archive once bundle is out (or a sideload plan is forced); the bundle zip
  // while bundle is possible, for zipDirect (the unzipped size is only a bound and misreads a pruned tree).
  const bundleTry = attempt(STRATEGY.BUNDLE, base);
  const unzippedOk = bundleTry.checks.every((c) => c.ok || c.limit === 'zipDirect');
  const forcedSideload = config.plan === STRATEGY.SIDELOAD_BUNDLED || config.plan === STRATEGY.SIDELOAD_S3;
  const needsDeps = (!bundleTry.fits || !unzippedOk || forcedSideload) && prune.kept.length > 0;
  // config `sideload.format` (docs/config.md): tar.br by default for Node, zip for Python.
  const format = config.sideload?.format ?? record.sideloadFormat;
  const progress = { onProgress: options.onProgress };
  const deps = needsDeps ? await archive(depsEntries(), format, KEPT_FILES.deps[format], progress) : null;
  // The bundle zip replaces the code zip as the draft, copying the code entries from it.
  const fromCode = { ...progress, reuse: code.reusable ? [code.reusable] : [] };
  const needsBundle = unzippedOk && !forcedSideload;
  const bundle = needsBundle
    ? await archive([...codeEntries, ...depsEntries()], 'zip', KEPT_FILES.draft, fromCode)
    : null;
  const input: PlanInput = {
    ...base,
    depsZipBytes: deps?.bytes ?? null,
    depsDiskBytes: deps?.diskBytes ?? null,
    depsFormat: format,
    bundleZipBytes: bundle?.bytes ?? null,
  };
  const draft = (bundle ?? code).reusable ?? null;
  return { strip, prune, natives, emitted, code, deps, bundle, draft, input };
}

/** The deflate cache (archive/deflate-cache.ts) in lambda-ml's cache folder (docs/design.md, "The deflate cache"). */
export const deflateCacheDir = (env: NodeJS.ProcessEnv = process.env): string => join(cacheRoot(env), 'deflate');

/** `prune`: off, the record's safe rules, or a trace of the handler's imports (@vercel/nft loads only for that). */
async function pruneDeps(config: Config, scan: Scan, record: RuntimeRecord, strip: StripResult): Promise<PruneResult> {
  if (config.prune === 'off') return pruneOff(strip.kept);
  if (config.prune === 'trace' && record.prune.traces && scan.deps.root) {
    return (await import('./trace.js')).pruneTrace(scan.deps.root, strip.kept);
  }
  return pruneSafe(strip.kept, scan.deps.kind, scan.deps.root);
}
