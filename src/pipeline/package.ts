/** `package`: budget, then strip, prune, audit and zip at level 9 into --out, atomically (docs/design.md §3, §6). */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsError, inputError, LambdaMlError } from '../lib/errors.js';
import { VERSION } from '../lib/version.js';
import { auditBinaries } from '../pack/audit-native.js';
import { emittedInputs } from '../pack/emitted.js';
import { readLabels, stageModels, type KerasConverter } from '../pack/models-stage.js';
import type { PruneResult } from '../pack/prune.js';
import { checkSecrets } from '../pack/secrets.js';
import { entriesToInputs } from '../pack/zip-inputs.js';
import { writeZip, type ZipInput, type ZipResult } from '../pack/zip-writer.js';
import { cleanStaleTemps, makeTempDirBeside, replaceDir } from '../lib/atomic-dir.js';
import { formatS3Url, parseS3Url } from '../remote/s3-url.js';
import { layerModulePaths, runtimeOf } from '../runtimes/table.js';
import { absPath } from '../scan/walk.js';
import {
  STRATEGY,
  type ArtifactInfo,
  type Budget,
  type Config,
  type FileEntry,
  type Manifest,
  type PruneMode,
  type RuntimeConfig,
} from '../types.js';
import { runBudget, type BudgetOptions } from './budget.js';

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
}

export const MANIFEST_FILE = 'manifest.json';
export const RUNTIME_FILE = 'lambda-ml.runtime.json';

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
    // The budget writes deps.zip straight into the temp folder when a sideload plan needs it: one deflate pass.
    const run = await runBudget(config, { ...options, depsZipPath: join(temp, 'deps.zip') });
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
    ];
    checkSecrets(
      shipped.map(([label, path]) => [label, path] as [string, string]),
      config.allowSecrets,
    );
    const { audited } = auditBinaries(shipped, {
      architecture: config.function.architecture,
      runtime: config.function.runtime,
    });
    const manifest = await build(
      temp,
      config,
      budget,
      prune.kept,
      depsRoot,
      budget.runtime,
      scan,
      run.depsZip,
      options,
    );
    await replaceDir(temp, out);
    return { manifest, budget, out, prune, binariesAudited: audited };
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

async function build(
  temp: string,
  config: Config,
  budget: Budget,
  kept: readonly FileEntry[],
  depsRoot: string,
  runtimeKind: 'node' | 'python',
  scan: Awaited<ReturnType<typeof runBudget>>['scan'],
  written: ZipResult | null,
  options: PackageOptions,
): Promise<Manifest> {
  const plan = budget.plan as NonNullable<Budget['plan']>;
  const zipOptions = (label: string) => ({
    signal: options.signal,
    onProgress: (done: number, total: number) => options.onPackProgress?.(label, done, total),
  });
  const staged = await stageModels(temp, config.models, scan.models, options.convert, runtimeKind);
  for (const model of config.models) {
    if (!model.bundle && model.s3 === null)
      throw inputError(
        `models: "${model.name}" has no "s3" location`,
        'set models[].s3 to where the function fetches it (deploy uploads it there), or "bundle": true for a small model',
      );
  }
  const depsInputs = entriesToInputs(depsRoot, kept);
  let deps: (ArtifactInfo & { s3: string | null }) | null = null;
  if (plan !== STRATEGY.BUNDLE && depsInputs.length > 0) {
    const depsPath = join(temp, 'deps.zip');
    const zip =
      written && existsSync(depsPath) ? written : await writeZip(depsInputs, depsPath, zipOptions('deps.zip'));
    let s3: string | null = null;
    if (plan === STRATEGY.SIDELOAD_S3) {
      if (!config.artifacts.bucket)
        throw inputError(
          'plan sideload-s3 needs artifacts.bucket (where deps.zip is stored)',
          'set "artifacts": { "bucket": "my-deploy-artifacts" }',
        );
      s3 = `s3://${config.artifacts.bucket}/${config.artifacts.prefix}${config.function.name}/deps-${zip.sha256}.zip`;
    }
    deps = { ...artifact('deps.zip', zip), s3 };
  }
  const lambdaRuntime = runtimeOf(config.function.runtime);
  const providesNode =
    lambdaRuntime.language === 'node' && scan.layers.some((l) => l.provides.some((p) => p.kind === 'node'));
  const runtime: RuntimeConfig = {
    version: 1,
    strategy: plan,
    sideload: deps
      ? {
          zip: plan === STRATEGY.SIDELOAD_BUNDLED ? 'deps.zip' : null,
          s3: deps.s3,
          sha256: deps.sha256,
          zipBytes: deps.bytes,
          unzippedBytes: deps.unzippedBytes,
          files: deps.files,
        }
      : null,
    // ESM `import` ignores NODE_PATH: the handler resolves layer packages through createRequire on the runtime's layer
    // folders.
    layerNodeModules: providesNode ? layerModulePaths(lambdaRuntime) : [],
    backend: config.backend,
    models: [
      ...staged.map((m) => {
        const model = config.models.find((c) => c.name === m.name)!;
        return {
          name: m.name,
          tag: model.tag,
          format: m.format,
          dir: model.bundle ? m.dir : null,
          s3: model.bundle ? null : m.s3,
          files: m.files,
          labels: m.labels,
          input: model.input,
          topK: model.topK,
          threshold: model.threshold,
        };
      }),
      ...(await remoteModels(config, scan.models, runtimeKind)),
    ],
    colors: config.colors,
    tags: config.tags,
    results: config.results,
    maxImageBytes: config.maxImageBytes,
  };
  const functionInputs: ZipInput[] = [
    ...(scan.code.root ? entriesToInputs(scan.code.root, scan.code.entries) : []),
    ...emittedInputs(config, runtimeKind),
    { name: RUNTIME_FILE, kind: 'file', data: Buffer.from(JSON.stringify(runtime, null, 2) + '\n') },
    ...(plan === STRATEGY.BUNDLE ? depsInputs : []),
    ...(plan === STRATEGY.SIDELOAD_BUNDLED && deps
      ? [{ name: 'deps.zip', kind: 'file' as const, source: join(temp, 'deps.zip') }]
      : []),
    ...staged
      .filter((m) => config.models.find((c) => c.name === m.name)?.bundle)
      .flatMap((m) =>
        m.files.map((f) => ({ name: `${m.dir}/${f.name}`, kind: 'file' as const, source: join(temp, m.dir, f.name) })),
      ),
  ];
  const fn = await writeZip(functionInputs, join(temp, 'function.zip'), zipOptions('function.zip'));
  const layerBytes = scan.layers.reduce((t, l) => t + l.bytes, 0);
  if (fn.unzippedBytes + layerBytes > config.limits.unzippedBytes) {
    throw new LambdaMlError(
      'over-budget',
      `function.zip unzips to ${fn.unzippedBytes} bytes; with layers (${layerBytes}) that exceeds ${config.limits.unzippedBytes}`,
      'run lambda-ml budget; prune more or move packages to a layer',
    );
  }
  if (plan === STRATEGY.BUNDLE) await rm(join(temp, 'deps.zip'), { force: true });
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
  return manifest;
}

/**
 * Models that only live in S3 (no local `path`): the handler fetches them as they are. Their sha256 is unknown here
 * (package never downloads them), so their runtime entry carries an empty sha256 and the handler checks sizes only.
 */
async function remoteModels(
  config: Config,
  scans: Awaited<ReturnType<typeof runBudget>>['scan']['models'],
  runtime: 'node' | 'python',
): Promise<RuntimeConfig['models'][number][]> {
  const out: RuntimeConfig['models'][number][] = [];
  for (const model of config.models) {
    if (model.path !== null || model.s3 === null) continue;
    const scan = scans.find((s) => s.name === model.name);
    if (!scan) continue;
    if (runtime === 'node' && scan.format !== 'tfjs-layers' && scan.format !== 'tfjs-graph') {
      throw inputError(
        `model ${model.name} in S3 is a Keras file (${model.s3}); the Node handler runs TF.js`,
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
      format: scan.format === 'tfjs-graph' ? 'tfjs-graph' : 'tfjs-layers',
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

const artifact = (file: string, zip: ZipResult): ArtifactInfo => ({
  file,
  bytes: zip.bytes,
  unzippedBytes: zip.unzippedBytes,
  files: zip.files,
  sha256: zip.sha256,
  sha256Base64: zip.sha256Base64,
});
