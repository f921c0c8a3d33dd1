/**
 * One strategy's checks against every limit (docs/design.md §5, §9), and the input the planner reads. PURE: both
 * the planner (plan-budget.ts) and the suggestions (suggest.ts) run it.
 */
import { MiB, TMP_MAX_MB, TMP_MIN_MB } from '../lib/limits.js';
import {
  STRATEGY,
  type Budget,
  type Check,
  type Config,
  type PlanAttempt,
  type Scan,
  type Strategy,
} from '../types.js';
import type { SideloadFormat } from '../archive/tar-br-format.js';
import type { PlanRuntime } from '../runtimes/record.js';
import { WORKING_SET_BYTES } from './memory.js';
import type { StripResult } from './strip.js';

export interface PlanInput {
  readonly scan: Scan;
  readonly config: Config;
  readonly strip: StripResult;
  readonly prune: Budget['prune'];
  readonly handlerBytes: number; // what `package` adds at the function root (handler / bootstrap)
  readonly handlerFiles?: number; // and how many files that is (absent: not counted)
  readonly codeZipBytes: number; // level-9 zip of code + handler
  readonly depsZipBytes: number | null; // exact bytes of the deps archive (its format below); null when not measured
  /** The deps archive's format (default zip): a tar.br is streamed at cold start, a zip held in memory. */
  readonly depsFormat?: SideloadFormat;
  /** What the extracted deps take on disk in 4 KiB blocks; null or absent when not measured (file bytes then). */
  readonly depsDiskBytes?: number | null;
  // exact zip of code + deps for bundle; null = not measured (unzipped is the bound)
  readonly bundleZipBytes: number | null;
  /** What the function's runtime record says about memory, the sideloaded archive and matching (runtimes/). */
  readonly runtime: PlanRuntime;
}

/** Every docs/design.md §9 check for one strategy. */
export function attempt(strategy: Strategy, input: PlanInput): PlanAttempt {
  const { scan, config, runtime } = input;
  const limits = config.limits;
  const deps = input.strip.afterStrip - input.prune.savedBytes;
  const code = scan.code.bytes + input.handlerBytes;
  const layers = scan.layers.reduce((t, l) => t + l.bytes, 0);
  const bundledModels = scan.models.filter((m) => m.location === 'bundle').reduce((t, m) => t + m.bytes, 0);
  const s3Models = scan.models.filter((m) => m.location === 's3').reduce((t, m) => t + m.bytes, 0);
  const depsZip = input.depsZipBytes ?? deps; // unmeasured: the unzipped size bounds it
  // /tmp holds the extracted deps in blocks, not file bytes (docs/design.md §2); unmeasured: the file bytes.
  const depsDisk = input.depsDiskBytes ?? deps;
  const hasDeps = deps > 0;
  let unzipped: number;
  let zipped: number;
  let tmp = s3Models;
  let memory = runtime.baseMemoryBytes + WORKING_SET_BYTES + scan.models.reduce((t, m) => t + m.memoryBytes, 0);
  if (strategy === STRATEGY.BUNDLE) {
    unzipped = code + deps + bundledModels;
    // measured: code + deps deflated; bundled models are added as they are (weights barely compress)
    zipped = input.bundleZipBytes === null ? unzipped : input.bundleZipBytes + bundledModels;
  } else if (strategy === STRATEGY.SIDELOAD_BUNDLED) {
    unzipped = code + (hasDeps ? depsZip : 0) + bundledModels;
    zipped = input.codeZipBytes + (hasDeps ? depsZip : 0) + bundledModels;
    tmp += hasDeps ? depsDisk : 0;
  } else {
    unzipped = code + bundledModels;
    zipped = input.codeZipBytes + bundledModels;
    // Fetched from S3: the Python bootstrap downloads deps.zip to /tmp before extracting, the Node handler keeps it in
    // memory (the record's sideloadArchiveIn).
    // A deps.tar.br is streamed from S3 into /tmp: neither held in memory nor stored whole.
    const streamed = input.depsFormat === 'tar.br';
    tmp += hasDeps ? depsDisk + (runtime.sideloadArchiveIn === 'tmp' && !streamed ? depsZip : 0) : 0;
    memory += hasDeps && runtime.sideloadArchiveIn === 'memory' && !streamed ? depsZip : 0;
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

/** The smallest ephemeral storage (MB) that holds `bytes`, or null past Lambda's maximum. */
export function ephemeralMbFor(bytes: number): number | null {
  const mb = Math.max(TMP_MIN_MB, Math.ceil(bytes / MiB));
  return mb <= TMP_MAX_MB ? mb : null;
}
