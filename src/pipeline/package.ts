/** `package`: budget, then strip, prune, audit and zip at level 9 into --out, atomically (docs/design.md §3, §6). */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsError, inputError, LambdaMlError } from '../lib/errors.js';
import { VERSION } from '../lib/version.js';
import { auditBinaries } from '../pack/audit-native.js';
import { readLabels, stageModels, type KerasConverter } from '../pack/models-stage.js';
import type { PruneResult } from '../measure/prune.js';
import { checkSecrets } from '../pack/secrets.js';
import { entriesToInputs } from '../measure/archive-entries.js';
import type { ArchiveEntry } from '../archive/archive-entry.js';
import { writeArchive, type ArchiveResult } from '../archive/archive.js';
import { deflateCacheDir, KEPT_FILES } from '../measure/measure.js';
import { cleanStaleTemps, makeTempDirBeside, replaceDir } from '../lib/atomic-dir.js';
import { formatS3Url, parseS3Url } from '../lib/s3-url.js';
import { layerModulePaths, recordFor } from '../runtimes/registry.js';
import type { RuntimeRecord } from '../runtimes/record.js';
import { runtimeOf } from '../runtimes/table.js';
import { absPath } from '../scan/walk.js';
import {
  RUNTIME_CONFIG_FILE,
  STRATEGY,
  type ArtifactInfo,
  type Budget,
  type Config,
  type FileEntry,
  type Manifest,
  type ModelBackend,
  type PruneMode,
  type RuntimeConfig,
  type Scan,
} from '../types.js';
import { runBudget, type BudgetOptions, type BudgetRun } from './budget.js';
import { tfjsBackendOf } from './model-backends.js';

export interface PackageOptions extends BudgetOptions {
  readonly out: string;
  readonly prune?: PruneMode;
  readonly strict?: boolean;
  readonly signal?: AbortSignal;
  readonly convert?: KerasConverter;
  readonly onPackProgress?: (label: string, done: number, total: number) => void;
}

export interface PackageRun {
  readonly manifest: Manifest;
  readonly budget: Budget;
  readonly out: string;
  readonly prune: PruneResult;
  readonly binariesAudited: number;
  /** function.zip entries copied from the archives the measure stage wrote, not deflated again. */
  readonly reusedEntries: number;
}

export const MANIFEST_FILE = 'manifest.json';

/** Builds every artifact in a temp folder beside `out`, then swaps it in: a failed run leaves `out` untouched. */
export async function runPackage(baseConfig: Config, options: PackageOptions): Promise<PackageRun> {
  const config: Config = options.prune ? { ...baseConfig, prune: options.prune } : baseConfig;
  const out = resolve(options.out);
  const parent = dirname(out);
  // mkdir returns the first folder it had to create: removed again if this run fails, so a failed run leaves nothing.
  const createdParent = await mkdir(parent, { recursive: true }).catch((error) => {
    throw fsError(error, parent, 'create');
  });
  await cleanStaleTemps(out);
  const temp = await makeTempDirBeside(out);
  try {
    // The budget writes what it measures into the temp folder (deps.zip, and the zips the function zip copies from):
    // one deflate pass, not two.
    const run = await runBudget(config, { ...options, keepIn: temp });
    const { budget, scan, strip, prune } = run;
    if (!budget.fits || budget.plan === null) {
      throw new LambdaMlError(
        'over-budget',
        `does not fit: ${budget.reason}`,
        budget.suggestions[0]?.message ?? 'run lambda-ml budget for the numbers',
      );
    }
    if (options.strict && strip.mismatches.length > 0) {
      const m = strip.mismatches[0];
      throw inputError(
        `--strict: ${m.name} is ${m.ours} in deps but ${m.layerVersion} in layer ${m.layer}`,
        `pin ${m.name}==${m.layerVersion} in your deps, or rebuild the layer`,
      );
    }
    const depsRoot = scan.deps.root ?? '';
    const shipped: [string, string, string | null][] = [
      ...scan.code.entries
        .filter((e) => e.link === null)
        .map((e) => [e.path, absPath(scan.code.root as string, e.path), e.owner] as [string, string, string | null]),
      ...prune.kept
        .filter((e) => e.link === null)
        .map((e) => [e.path, absPath(depsRoot, e.path), e.owner] as [string, string, string | null]),
      ...run.natives.map((e) => [e.path, e.source as string, null] as [string, string, string | null]),
    ];
    checkSecrets(
      shipped.map(([label, path]) => [label, path] as [string, string]),
      config.allowSecrets,
    );
    const { audited } = auditBinaries(shipped, {
      architecture: config.function.architecture,
      runtime: config.function.runtime,
    });
    const record = recordFor(config);
    const built = await build({ temp, config, budget, scan, kept: prune.kept, depsRoot, record, run, options });
    await replaceDir(temp, out);
    const { manifest, reusedEntries } = built;
    return { manifest, budget, out, prune, binariesAudited: audited, reusedEntries };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (createdParent) await rm(createdParent, { recursive: true, force: true });
    // A raw fs error (a full disk while staging models or writing the manifest) is bad input with one line, not a bug.
    const errno = error as NodeJS.ErrnoException & { dest?: string };
    if (!(error instanceof LambdaMlError) && typeof errno?.syscall === 'string') {
      const full = errno.code === 'ENOSPC' || errno.code === 'EDQUOT' || errno.code === 'EFBIG';
      throw fsError(error, (full ? errno.dest : undefined) ?? errno.path ?? out, full ? 'write' : 'read');
    }
    throw error;
  }
}

/** What build() writes the artifacts from: the budget run and what package decided on top of it. */
interface BuildInput {
  readonly temp: string; // the folder swapped in as `out` once everything is written
  readonly config: Config;
  readonly budget: Budget;
  readonly scan: Scan;
  readonly kept: readonly FileEntry[]; // deps entries after strip and prune
  readonly depsRoot: string;
  readonly record: RuntimeRecord;
  readonly run: BudgetRun; // run.depsZip: the deps.zip the budget already wrote into temp, if any
  readonly options: PackageOptions;
}

/** Writes deps.zip, function.zip, the staged models and manifest.json into `temp`. */
async function build(input: BuildInput): Promise<{ manifest: Manifest; reusedEntries: number }> {
  const { temp, config, budget, scan, kept, depsRoot, record, options } = input;
  const written = input.run.depsZip;
  const plan = budget.plan as NonNullable<Budget['plan']>;
  const zipOptions = (label: string) => ({
    signal: options.signal,
    cacheDir: deflateCacheDir(options.env),
    onProgress: (done: number, total: number) => options.onPackProgress?.(label, done, total),
  });
  const staged = await stageModels(temp, config.models, scan.models, options.convert, record.loadsKeras);
  for (const model of config.models) {
    if (!model.bundle && model.s3 === null)
      throw inputError(
        `models: "${model.name}" has no "s3" location`,
        'set models[].s3 to where the function fetches it (deploy uploads it ' +
          'there), or "bundle": true for a small model',
      );
  }
  const depsInputs = entriesToInputs(depsRoot, kept);
  let deps: NonNullable<Manifest['artifacts']['deps']> | null = null;
  if (plan !== STRATEGY.BUNDLE && depsInputs.length > 0) {
    // The sideload archive (docs/package.md): deps.tar.br for Node unless config `sideload.format` says zip.
    const format = written?.format ?? config.sideload?.format ?? record.sideloadFormat;
    const file = KEPT_FILES.deps[format];
    const depsPath = join(temp, file);
    const zip =
      written && existsSync(depsPath) ? written : await writeArchive(depsInputs, depsPath, format, zipOptions(file));
    let s3: string | null = null;
    if (plan === STRATEGY.SIDELOAD_S3) {
      if (!config.artifacts.bucket)
        throw inputError(
          `plan sideload-s3 needs artifacts.bucket (where ${file} is stored)`,
          'set "artifacts": { "bucket": "my-deploy-artifacts" }',
        );
      const key = `${config.artifacts.prefix}${config.function.name}/deps-${zip.sha256}.${format}`;
      s3 = `s3://${config.artifacts.bucket}/${key}`;
    }
    deps = {
      ...artifact(file, zip),
      s3,
      format,
      archive: file,
      archiveBytes: zip.bytes,
      diskBytes: zip.diskBytes,
      entries: zip.entries,
    };
  }
  const lambdaRuntime = runtimeOf(config.function.runtime);
  const handlerResolvesLayers =
    record.layers.resolvedByHandler && scan.layers.some((l) => l.provides.some((p) => p.kind === record.name));
  const runtime: RuntimeConfig = {
    version: 1,
    strategy: plan,
    sideload: deps
      ? {
          zip: plan === STRATEGY.SIDELOAD_BUNDLED && deps.format === 'zip' ? deps.file : null,
          s3: deps.s3,
          sha256: deps.sha256,
          zipBytes: deps.format === 'zip' ? deps.bytes : null,
          unzippedBytes: deps.unzippedBytes,
          files: deps.files,
          format: deps.format,
          archive: plan === STRATEGY.SIDELOAD_BUNDLED ? deps.file : null,
          archiveBytes: deps.bytes,
          diskBytes: deps.diskBytes,
          entries: deps.entries,
        }
      : null,
    // ESM `import` ignores NODE_PATH: the handler resolves layer packages through createRequire on the runtime's layer
    // folders.
    layerNodeModules: handlerResolvesLayers ? layerModulePaths(lambdaRuntime) : [],
    backend: tfjsBackendOf(config), // the TF.js models' backend; each model says what runs it
    models: [
      ...staged.map((m) => {
        const model = config.models.find((c) => c.name === m.name)!;
        return {
          name: m.name,
          tag: model.tag,
          format: m.format,
          ...backendOf(scan.models, m.name),
          dir: model.bundle ? m.dir : null,
          s3: model.bundle ? null : m.s3,
          files: m.files,
          labels: m.labels,
          input: model.input,
          topK: model.topK,
          threshold: model.threshold,
        };
      }),
      ...(await remoteModels(config, scan.models, record)),
    ],
    colors: config.colors,
    tags: config.tags,
    results: config.results,
    maxImageBytes: config.maxImageBytes,
  };
  const { measured } = input.run;
  const functionInputs: ArchiveEntry[] = [
    ...(scan.code.root ? entriesToInputs(scan.code.root, scan.code.entries) : []),
    ...measured.emitted, // the record's files and node_modules/sharp for the function's CPU, beside the handler bundle
    { path: RUNTIME_CONFIG_FILE, kind: 'file', data: Buffer.from(JSON.stringify(runtime, null, 2) + '\n') },
    ...(plan === STRATEGY.BUNDLE ? depsInputs : []),
    ...(plan === STRATEGY.SIDELOAD_BUNDLED && deps
      ? [{ path: deps.file, kind: 'file' as const, source: join(temp, deps.file) }]
      : []),
    ...staged
      .filter((m) => config.models.find((c) => c.name === m.name)?.bundle)
      .flatMap((m) =>
        m.files.map((f) => ({ path: `${m.dir}/${f.name}`, kind: 'file' as const, source: join(temp, m.dir, f.name) })),
      ),
  ];
  // The entries the measure stage already deflated into its draft function.zip (code, handler, and for bundle the
  // deps) are copied, not deflated again; only the runtime config and the bundled models are new. The new zip
  // replaces the draft (temp file, then rename).
  const fnOptions = { ...zipOptions('function.zip'), reuse: measured.draft ? [measured.draft] : [] };
  const fn = await writeArchive(functionInputs, join(temp, KEPT_FILES.draft), 'zip', fnOptions);
  const layerBytes = scan.layers.reduce((t, l) => t + l.bytes, 0);
  if (fn.unpackedBytes + layerBytes > config.limits.unzippedBytes) {
    throw new LambdaMlError(
      'over-budget',
      `function.zip unzips to ${fn.unpackedBytes} bytes; with layers ` +
        `(${layerBytes}) that exceeds ${config.limits.unzippedBytes}`,
      'run lambda-ml budget; prune more or move packages to a layer',
    );
  }
  if (plan === STRATEGY.BUNDLE) {
    for (const file of Object.values(KEPT_FILES.deps)) await rm(join(temp, file), { force: true });
  }
  const manifest: Manifest = {
    schemaVersion: 1,
    tool: `lambda-ml ${VERSION}`,
    function: config.function,
    region: config.region,
    plan,
    reason: budget.reason,
    checks: budget.checks,
    artifacts: {
      function: artifact('function.zip', fn),
      deps,
      models: staged.map(({ name, dir, s3, files }) => ({ name, dir, s3, files })),
    },
    layers: config.layers.map((l) => ({ name: l.name, arn: l.arn })),
    trigger: config.trigger,
    artifactsBucket: config.artifacts,
    runtime,
  };
  await writeFile(join(temp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return { manifest, reusedEntries: fn.reusedEntries };
}

/**
 * Models that only live in S3 (no local `path`): the handler fetches them as they are. Their sha256 is unknown here
 * (package never downloads them), so their runtime entry carries an empty sha256 and the handler checks sizes only.
 */
async function remoteModels(
  config: Config,
  scans: Scan['models'],
  record: RuntimeRecord,
): Promise<RuntimeConfig['models'][number][]> {
  const out: RuntimeConfig['models'][number][] = [];
  for (const model of config.models) {
    if (model.path !== null || model.s3 === null) continue;
    const scan = scans.find((s) => s.name === model.name);
    if (!scan) continue;
    if (!record.loadsKeras && scan.format !== 'tfjs-layers' && scan.format !== 'tfjs-graph') {
      throw inputError(
        `model ${model.name} in S3 is a Keras file (${model.s3}); the ${record.title} handler runs TF.js`,
        'convert it first (lambda-ml convert IN OUT), upload OUT, and point models[].s3 at that folder',
      );
    }
    // The handler fetches `<folder><file name>`: a model.json URL's folder, or the prefix itself.
    const { bucket, key } = parseS3Url(model.s3);
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    const s3 = formatS3Url({ bucket, key: folder });
    out.push({
      name: model.name,
      tag: model.tag,
      format: scan.format, // TF.js where the handler runs TF.js (checked above), else a Keras file as it is
      ...backendOf(scans, model.name),
      dir: null,
      s3,
      files: scan.files.map((f) => ({ name: f.path.slice(folder.length), bytes: f.bytes, sha256: '' })),
      labels: await readLabels(model),
      input: model.input,
      topK: model.topK,
      threshold: model.threshold,
    });
  }
  return out;
}

/** The runtime config's `backend` of a model, as chosen by the budget run (none for a runtime without the choice). */
function backendOf(models: Scan['models'], name: string): { backend?: ModelBackend } {
  const backend = models.find((m) => m.name === name)?.backend;
  return backend ? { backend } : {};
}

const artifact = (file: string, zip: ArchiveResult): ArtifactInfo => ({
  file,
  bytes: zip.bytes,
  unzippedBytes: zip.unpackedBytes,
  files: zip.files,
  sha256: zip.sha256,
  sha256Base64: zip.sha256Base64,
});
