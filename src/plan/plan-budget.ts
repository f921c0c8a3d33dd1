/**
 * The planner (docs/design.md §5): try bundle, sideload-bundled, sideload-s3; take the first that fits every limit.
 * PURE.
 */
import { formatLimit } from '../lib/bytes.js';
import { MiB, TMP_MAX_MB } from '../lib/limits.js';
import {
  STRATEGY,
  type Budget,
  type Check,
  type Config,
  type PlanAttempt,
  type Scan,
  type Strategy,
} from '../types.js';
import { NODE_BASE_BYTES, PYTHON_BASE_BYTES, WORKING_SET_BYTES } from './memory.js';
import type { StripResult } from './strip.js';
import { suggestFixes } from './suggest.js';

export interface PlanInput {
  readonly scan: Scan;
  readonly config: Config;
  readonly strip: StripResult;
  readonly prune: Budget['prune'];
  readonly handlerBytes: number; // what `package` adds at the function root (handler / bootstrap)
  readonly codeZipBytes: number; // level-9 zip of code + handler
  readonly depsZipBytes: number | null; // exact level-9 zip of the kept, pruned deps; null when not measured
  readonly bundleZipBytes: number | null; // exact zip of code + deps for bundle; null = not measured (unzipped is the bound)
}

/** The order of docs/design.md §5. */
export const STRATEGIES: readonly Strategy[] = [STRATEGY.BUNDLE, STRATEGY.SIDELOAD_BUNDLED, STRATEGY.SIDELOAD_S3];

/** Computes every check of every strategy and picks the plan. */
export function planBudget(input: PlanInput): Budget {
  const { scan, config, strip, prune } = input;
  const runtime = config.function.runtime.startsWith('python') ? 'python' : 'node';
  const attempts = STRATEGIES.map((strategy) => attempt(strategy, input, runtime));
  const forced = config.plan === 'auto' ? null : attempts.find((a) => a.strategy === config.plan)!;
  const chosen = forced ?? attempts.find((a) => a.fits) ?? null;
  const fits = chosen?.fits ?? false;
  const shown = chosen ?? attempts[attempts.length - 1];
  const afterPrune = strip.afterStrip - prune.savedBytes;
  const warnings = [...strip.warnings];
  const zipDirect = shown.checks.find((c) => c.limit === 'zipDirect')!;
  if (fits && !zipDirect.ok)
    warnings.push(
      `function.zip is over ${formatLimit(config.limits.zipDirectBytes)}: deploy uploads it through S3${config.artifacts.bucket ? '' : ' (set artifacts.bucket)'}`,
    );
  return {
    fits,
    plan: fits ? (chosen as PlanAttempt).strategy : null,
    reason: reasonFor(forced, chosen, attempts, config),
    runtime,
    components: {
      code: { bytes: scan.code.bytes + input.handlerBytes, files: scan.code.files },
      deps: {
        kind: scan.deps.kind,
        bytes: scan.deps.bytes,
        files: scan.deps.files,
        afterStrip: strip.afterStrip,
        afterPrune,
        zipBytes: input.depsZipBytes,
        packages: strip.packages,
        unowned: { bytes: scan.deps.unowned.bytes, files: scan.deps.unowned.files, sample: scan.deps.unowned.sample },
      },
      // `provides` lists what code imports (docs/design.md §9: "PIL", not "Pillow"); `packages` the distributions with
      // versions.
      layers: scan.layers.map((l) => ({
        name: l.name,
        bytes: l.bytes,
        source: l.source,
        provides: [
          ...new Set(l.provides.flatMap((p) => (p.kind === 'python' && p.topLevel.length ? p.topLevel : [p.name]))),
        ].sort(),
        packages: l.provides.map((p) => (p.version ? `${p.name}@${p.version}` : p.name)),
      })),
      models: scan.models.map((m) => ({
        name: m.name,
        format: m.format,
        bytes: m.bytes,
        memoryBytes: m.memoryBytes,
        location: m.location,
        quantization: m.quantization,
      })),
    },
    checks: shown.checks,
    attempts,
    suggestions: fits ? [] : suggestFixes(input, attempts, runtime),
    warnings,
    prune,
  };
}

/** Every docs/design.md §9 check for one strategy. */
export function attempt(strategy: Strategy, input: PlanInput, runtime: 'node' | 'python'): PlanAttempt {
  const { scan, config } = input;
  const limits = config.limits;
  const deps = input.strip.afterStrip - input.prune.savedBytes;
  const code = scan.code.bytes + input.handlerBytes;
  const layers = scan.layers.reduce((t, l) => t + l.bytes, 0);
  const bundledModels = scan.models.filter((m) => m.location === 'bundle').reduce((t, m) => t + m.bytes, 0);
  const s3Models = scan.models.filter((m) => m.location === 's3').reduce((t, m) => t + m.bytes, 0);
  const depsZip = input.depsZipBytes ?? deps; // unmeasured: the unzipped size bounds it
  const hasDeps = deps > 0;
  let unzipped: number;
  let zipped: number;
  let tmp = s3Models;
  let memory =
    (runtime === 'python' ? PYTHON_BASE_BYTES : NODE_BASE_BYTES) +
    WORKING_SET_BYTES +
    scan.models.reduce((t, m) => t + m.memoryBytes, 0);
  if (strategy === STRATEGY.BUNDLE) {
    unzipped = code + deps + bundledModels;
    // measured: code + deps deflated; bundled models are added as they are (weights barely compress)
    zipped = input.bundleZipBytes === null ? unzipped : input.bundleZipBytes + bundledModels;
  } else if (strategy === STRATEGY.SIDELOAD_BUNDLED) {
    unzipped = code + (hasDeps ? depsZip : 0) + bundledModels;
    zipped = input.codeZipBytes + (hasDeps ? depsZip : 0) + bundledModels;
    tmp += hasDeps ? deps : 0;
  } else {
    unzipped = code + bundledModels;
    zipped = input.codeZipBytes + bundledModels;
    // The Python bootstrap downloads deps.zip to /tmp before extracting; the Node handler keeps it in memory.
    tmp += hasDeps ? deps + (runtime === 'python' ? depsZip : 0) : 0;
    memory += hasDeps && runtime === 'node' ? depsZip : 0;
  }
  const checks: Check[] = [
    check('unzipped', unzipped + layers, limits.unzippedBytes),
    { ...check('zipDirect', zipped, limits.zipDirectBytes), blocking: false },
    check('tmp', tmp, config.function.ephemeralStorageMb * MiB),
    check('memory', memory, config.function.memoryMb * MiB),
    check('layers', scan.layers.length, limits.maxLayers),
  ];
  return { strategy, fits: checks.every((c) => c.ok || !c.blocking), checks };
}

const check = (limit: Check['limit'], used: number, max: number): Check => ({
  limit,
  used,
  max,
  ok: used <= max,
  blocking: true,
});

function reasonFor(
  forced: PlanAttempt | null,
  chosen: PlanAttempt | null,
  attempts: readonly PlanAttempt[],
  config: Config,
): string {
  const max = formatLimit(config.limits.unzippedBytes);
  const failing = (a: PlanAttempt) =>
    a.checks
      .filter((c) => !c.ok && c.blocking)
      .map((c) => c.limit)
      .join(', ');
  if (forced)
    return forced.fits
      ? `plan forced by config ("plan": "${forced.strategy}") and it fits`
      : `plan forced by config ("plan": "${forced.strategy}") does not fit: ${failing(forced)}`;
  if (!chosen) return `nothing fits: ${attempts.map((a) => `${a.strategy} fails ${failing(a)}`).join('; ')}`;
  if (chosen.strategy === STRATEGY.BUNDLE) return `code + deps + layers unzipped fit in ${max}`;
  const bundle = attempts[0];
  const bundleWhy = bundle.checks.find((c) => c.limit === 'unzipped' && !c.ok)
    ? `deps + layers unzipped exceed ${max}`
    : `bundle fails ${failing(bundle)}`;
  if (chosen.strategy === STRATEGY.SIDELOAD_BUNDLED) return `${bundleWhy}; the level-9 deps.zip fits`;
  return `${bundleWhy}; deps.zip inside the function zip fails ${failing(attempts[1])}, so it is fetched from S3 at cold start`;
}

/** The smallest ephemeral storage (MB) that holds `bytes`, or null past Lambda's maximum. */
export function ephemeralMbFor(bytes: number): number | null {
  const mb = Math.max(512, Math.ceil(bytes / MiB));
  return mb <= TMP_MAX_MB ? mb : null;
}
