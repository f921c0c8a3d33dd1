/**
 * `budget`: scan -> measure (strip, prune, exact archive sizes where a decision needs them) -> plan (pure), as
 * docs/design.md §4 lays out. Never packs: `package` writes the artifacts from this run.
 */
import type { ArchiveEntry } from '../archive/archive-entry.js';
import type { ArchiveResult } from '../archive/archive.js';
import { measureProject, type Measured } from '../measure/measure.js';
import type { PruneResult } from '../measure/prune.js';
import { planBudget } from '../plan/plan-budget.js';
import type { StripResult } from '../plan/strip.js';
import { recordFor } from '../runtimes/registry.js';
import { scanProject, type ScanOptions } from '../scan/scan-project.js';
import type { Budget, Config, Scan } from '../types.js';
import { runtimeView } from './runtime-checks.js';
import { chooseBackends } from './model-backends.js';

export interface BudgetRun {
  readonly budget: Budget;
  readonly scan: Scan;
  readonly strip: StripResult;
  readonly prune: PruneResult;
  /** The sideload archive written into options.keepIn (or only measured), when a decision needed it. */
  readonly depsZip: ArchiveResult | null;
  /** The handler's native packages for the function's CPU (node_modules/sharp/...), counted with the handler. */
  readonly natives: readonly ArchiveEntry[];
  /** What the measure stage found and wrote; package builds the artifacts from it. */
  readonly measured: Measured;
}

export interface BudgetOptions extends ScanOptions {
  readonly onZipProgress?: (done: number, total: number) => void;
  /**
   * When set, the measured archives are written into this folder instead of only measured: deps.zip is the artifact,
   * code.zip and bundle.zip are copied from by the function zip (package: one deflate pass, not two).
   */
  readonly keepIn?: string;
  readonly signal?: AbortSignal;
  /** The day the runtime's deprecation is judged on (default: today). */
  readonly now?: Date;
  /** Where the handler's native packages are cached (LAMBDA_ML_CACHE, XDG_CACHE_HOME, HOME; default ~/.cache). */
  readonly env?: NodeJS.ProcessEnv;
  /** Called once before the native packages for a new version or CPU are installed. */
  readonly onInstall?: (what: string) => void;
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
  const record = recordFor(view.runtime);
  // Each model's backend (onnx when it converts, docs/config.md): what ships and its memory follow from it.
  const chosen = await chooseBackends(config, view.scan, record, { keepIn: options.keepIn, runtime: view.runtime });
  const { scan } = chosen;
  const measured = await measureProject(config, scan, record, {
    onProgress: options.onZipProgress,
    signal: options.signal,
    keepIn: options.keepIn,
    env: options.env,
    onInstall: options.onInstall,
  });
  const planned = planBudget(measured.input);
  const notes = [...view.warnings, ...chosen.notes];
  const budget = notes.length > 0 ? { ...planned, warnings: [...notes, ...planned.warnings] } : planned;
  const { strip, prune, natives, deps } = measured;
  return { budget, scan, strip, prune, depsZip: deps, natives, measured };
}
