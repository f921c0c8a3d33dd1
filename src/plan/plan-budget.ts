/**
 * The planner (docs/design.md §5): try bundle, sideload-bundled, sideload-s3; take the first that fits every limit.
 * PURE.
 */
import { ARCHIVE_FILE, type SideloadFormat } from '../archive/tar-br-format.js';
import { formatLimit } from '../lib/bytes.js';
import { STRATEGY, type Budget, type Config, type PlanAttempt, type Strategy } from '../types.js';
import { attempt, type PlanInput } from './attempt.js';
import { suggestFixes } from './suggest.js';

// The checks of one strategy live in attempt.ts (suggest.ts re-runs them): re-exported for the callers of the planner.
export { attempt, ephemeralMbFor, type PlanInput } from './attempt.js';

/** The order of docs/design.md §5. */
export const STRATEGIES: readonly Strategy[] = [STRATEGY.BUNDLE, STRATEGY.SIDELOAD_BUNDLED, STRATEGY.SIDELOAD_S3];

/** Computes every check of every strategy and picks the plan. */
export function planBudget(input: PlanInput): Budget {
  const { scan, config, strip, prune } = input;
  const { runtime } = input;
  const depsFormat = input.depsFormat ?? 'zip';
  const attempts = STRATEGIES.map((strategy) => attempt(strategy, input));
  const forced = config.plan === 'auto' ? null : attempts.find((a) => a.strategy === config.plan)!;
  const chosen = forced ?? attempts.find((a) => a.fits) ?? null;
  const fits = chosen?.fits ?? false;
  const shown = chosen ?? attempts[attempts.length - 1];
  const afterPrune = strip.afterStrip - prune.savedBytes;
  const warnings = [...strip.warnings];
  const zipDirect = shown.checks.find((c) => c.limit === 'zipDirect')!;
  if (fits && !zipDirect.ok)
    warnings.push(
      `function.zip is over ${formatLimit(config.limits.zipDirectBytes)}: deploy uploads it ` +
        `through S3${config.artifacts.bucket ? '' : ' (set artifacts.bucket)'}`,
    );
  return {
    fits,
    plan: fits ? (chosen as PlanAttempt).strategy : null,
    reason: reasonFor(forced, chosen, attempts, config, depsFormat),
    runtime: runtime.name,
    components: {
      code: { bytes: scan.code.bytes + input.handlerBytes, files: scan.code.files + (input.handlerFiles ?? 0) },
      deps: {
        kind: scan.deps.kind,
        bytes: scan.deps.bytes,
        files: scan.deps.files,
        afterStrip: strip.afterStrip,
        afterPrune,
        // zipBytes stays the zip's (null for a tar.br); archiveBytes is the sideload archive's, whatever its format.
        zipBytes: depsFormat === 'zip' ? input.depsZipBytes : null,
        format: depsFormat,
        archive: input.depsZipBytes === null ? null : ARCHIVE_FILE[depsFormat],
        archiveBytes: input.depsZipBytes,
        diskBytes: input.depsDiskBytes ?? null,
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
          ...new Set(l.provides.flatMap((p) => (p.kind === runtime.name ? runtime.match.importNames(p) : [p.name]))),
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
        ...(m.backend ? { backend: m.backend } : {}),
        ...(m.backendNote ? { backendNote: m.backendNote } : {}),
      })),
    },
    checks: shown.checks,
    attempts,
    suggestions: fits ? [] : suggestFixes(input, attempts),
    warnings,
    prune,
  };
}

function reasonFor(
  forced: PlanAttempt | null,
  chosen: PlanAttempt | null,
  attempts: readonly PlanAttempt[],
  config: Config,
  format: SideloadFormat,
): string {
  const max = formatLimit(config.limits.unzippedBytes);
  const archive = format === 'zip' ? 'deps.zip' : ARCHIVE_FILE[format];
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
  if (chosen.strategy === STRATEGY.SIDELOAD_BUNDLED)
    return `${bundleWhy}; the ${format === 'zip' ? 'level-9 deps.zip' : archive} fits`;
  return (
    `${bundleWhy}; ${archive} inside the function zip ` +
    `fails ${failing(attempts[1])}, so it is fetched from S3 at cold start`
  );
}
