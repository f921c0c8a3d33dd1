/** `budget`: scan + strip + prune + exact zip measurement where a decision needs it + plan. */
import type { Budget, Config, Scan } from '../types.js';
import { scanProject, type ScanOptions } from '../scan/scan-project.js';
import { stripLayers, type StripResult } from '../plan/strip.js';
import { attempt, planBudget, type PlanInput } from '../plan/plan-budget.js';
import { pruneOff, pruneSafe, type PruneResult } from '../pack/prune.js';
import { measureZip, writeZip, type ZipResult } from '../pack/zip-writer.js';
import { entriesToInputs } from '../pack/zip-inputs.js';
import { emittedInputs } from '../pack/emitted.js';
import { inputBytes } from '../pack/handler-files.js';
import { STRATEGY } from '../types.js';
import { runtimeView } from './runtime-checks.js';

export interface BudgetRun {
  readonly budget: Budget;
  readonly scan: Scan;
  readonly strip: StripResult;
  readonly prune: PruneResult;
  /** The deps.zip written to options.depsZipPath (or only measured), when a decision needed it. */
  readonly depsZip: ZipResult | null;
}

export interface BudgetOptions extends ScanOptions {
  readonly onZipProgress?: (done: number, total: number) => void;
  /** When set, deps.zip is written here instead of only measured (package reuses it: one deflate pass, not two). */
  readonly depsZipPath?: string;
  readonly signal?: AbortSignal;
  /** The day the runtime's deprecation is judged on (default: today). */
  readonly now?: Date;
}

/**
 * Runs the whole budget; the zip sizes it reports are measured by deflating at level 9 in a stream, nothing written.
 */
export async function runBudget(config: Config, options: BudgetOptions = {}): Promise<BudgetRun> {
  const scan = await scanProject(config, options);
  return planFromScan(config, scan, options);
}

/** The budget for an existing scan (package reuses it). */
export async function planFromScan(config: Config, scanned: Scan, options: BudgetOptions = {}): Promise<BudgetRun> {
  // Layer packages outside the runtime's module path provide nothing: they are not stripped from the deps.
  const view = runtimeView(config, scanned, options.now);
  const { scan } = view;
  const runtime = view.runtime.language;
  const strip = stripLayers(scan);
  const prune =
    config.prune === 'off'
      ? pruneOff(strip.kept)
      : config.prune === 'trace' && scan.deps.kind === 'node' && scan.deps.root
        ? await (await import('../pack/trace.js')).pruneTrace(scan.deps.root, strip.kept) // @vercel/nft loads only for trace
        : pruneSafe(strip.kept, scan.deps.kind, scan.deps.root);
  const emitted = emittedInputs(config, runtime);
  const handlerBytes = inputBytes(emitted);
  const codeInputs = [...(scan.code.root ? entriesToInputs(scan.code.root, scan.code.entries) : []), ...emitted];
  const codeZip = await measureZip(codeInputs);
  const base: PlanInput = {
    scan,
    config,
    strip,
    handlerBytes,
    prune: { mode: prune.mode, savedBytes: prune.savedBytes, rules: prune.rules },
    codeZipBytes: codeZip.bytes,
    depsZipBytes: null,
    bundleZipBytes: null,
  };
  const depsInputs = () => (scan.deps.root ? entriesToInputs(scan.deps.root, prune.kept) : []);
  let input = base;
  let depsZip: ZipResult | null = null;
  const bundle = attempt(STRATEGY.BUNDLE, base, runtime);
  const unzippedOk = bundle.checks.every((c) => c.ok || c.limit === 'zipDirect');
  const forcedSideload = config.plan === STRATEGY.SIDELOAD_BUNDLED || config.plan === STRATEGY.SIDELOAD_S3;
  if ((!bundle.fits || !unzippedOk || forcedSideload) && prune.kept.length > 0) {
    const zipOptions = { onProgress: options.onZipProgress, signal: options.signal };
    depsZip = options.depsZipPath
      ? await writeZip(depsInputs(), options.depsZipPath, zipOptions)
      : await measureZip(depsInputs(), zipOptions);
    input = { ...input, depsZipBytes: depsZip.bytes };
  }
  // zipDirect for bundle: the function.zip measured exactly (level 9, nothing written), as deps.zip is; the unzipped
  // size is only a bound and misreads a pruned tree (docs/budget.md, "The checks").
  if (unzippedOk && !forcedSideload) {
    const bundleZip = await measureZip([...codeInputs, ...depsInputs()], {
      onProgress: options.onZipProgress,
      signal: options.signal,
    });
    input = { ...input, bundleZipBytes: bundleZip.bytes };
  }
  const planned = planBudget(input);
  const budget = view.warnings.length > 0 ? { ...planned, warnings: [...view.warnings, ...planned.warnings] } : planned;
  return { budget, scan, strip, prune, depsZip };
}
