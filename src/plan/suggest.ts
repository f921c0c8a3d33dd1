/** The smallest changes that make an unfit project fit (SPEC §3 budget). PURE. */
import { MEMORY_MAX_MB, MiB } from '../lib/limits.js';
import type { PlanAttempt, Suggestion } from '../types.js';
import { attempt, ephemeralMbFor, type PlanInput } from './plan-budget.js';

const fmt = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Suggestions, most useful first: each one is checked against the planner, not guessed. */
export function suggestFixes(input: PlanInput, attempts: readonly PlanAttempt[], runtime: 'node' | 'python'): Suggestion[] {
  const out: Suggestion[] = [];
  const { config } = input;
  const failing = (a: PlanAttempt) => a.checks.filter((c) => !c.ok && c.blocking);

  // 1. Resource settings: the first strategy whose only failures are /tmp and/or memory.
  for (const a of attempts) {
    const fails = failing(a);
    if (!fails.every((c) => c.limit === 'tmp' || c.limit === 'memory')) continue;
    const tmp = fails.find((c) => c.limit === 'tmp');
    const memory = fails.find((c) => c.limit === 'memory');
    const tmpMb = tmp ? ephemeralMbFor(tmp.used) : null;
    const memMb = memory ? Math.ceil(memory.used / MiB) : null;
    if ((tmp && tmpMb === null) || (memMb !== null && memMb > MEMORY_MAX_MB)) continue;
    if (tmp && tmpMb !== null) out.push({ kind: 'ephemeral-storage', value: tmpMb, savesBytes: null, message: `raise function.ephemeralStorageMb to ${tmpMb} (${a.strategy} needs ${fmt(tmp.used)} of /tmp; ${config.function.ephemeralStorageMb} MB holds ${fmt(tmp.max)})` });
    if (memMb !== null) out.push({ kind: 'memory', value: memMb, savesBytes: null, message: `raise function.memoryMb to ${memMb} (${a.strategy} needs about ${fmt(memory!.used)})` });
    break;
  }

  // 2. Quantising float32 models cuts their download and /tmp bytes by ~75% (uint8) — checked by re-planning.
  for (const model of input.scan.models) {
    if (model.quantization !== null) continue;
    // uint8 stores one byte per float32 weight: the model shrinks to about memoryBytes / 4 (its real weight count).
    const saves = Math.max(0, model.bytes - Math.ceil(model.memoryBytes / 4));
    if (saves === 0) continue;
    const models = input.scan.models.map((m) => (m === model ? { ...m, bytes: m.bytes - saves, memoryBytes: m.memoryBytes } : m));
    const helps = attempts.some((a) => attempt(a.strategy, { ...input, scan: { ...input.scan, models } }, runtime).fits);
    out.push({ kind: 'quantize', value: model.name, savesBytes: saves, message: `quantize model ${model.name} to uint8 (-${Math.round((saves / model.bytes) * 100)}%: ${fmt(saves)} less to download and keep in /tmp${helps ? '; this alone makes it fit' : ''}): lambda-ml convert --quantize uint8` });
  }

  // 3. Unzipped size: which packages to move to a layer (biggest first, until the excess is covered).
  const unzipped = attempts[1].checks.find((c) => c.limit === 'unzipped')!;
  const bundleUnzipped = attempts[0].checks.find((c) => c.limit === 'unzipped')!;
  if (!bundleUnzipped.ok) {
    const excess = bundleUnzipped.used - bundleUnzipped.max;
    const kept = input.strip.packages.filter((p) => p.providedBy === null);
    const chosen: string[] = [];
    let moved = 0;
    for (const pkg of kept) {
      if (moved >= excess) break;
      chosen.push(`${pkg.name}@${pkg.version}`);
      moved += pkg.bytes;
    }
    const layerRoom = unzipped.ok ? '' : ' (the layer counts against the same 262,144,000 bytes, so this only helps if those packages also shrink: prune or quantize)';
    if (moved >= excess && chosen.length > 0) out.push({ kind: 'move-to-layer', value: chosen.join(' '), savesBytes: moved, message: `move ${chosen.join(', ')} to a layer to bundle them (excess ${fmt(excess)})${layerRoom}` });
  }
  if (input.prune.mode === 'off' && input.prune.savedBytes > 0) out.push({ kind: 'prune', value: 'safe', savesBytes: input.prune.savedBytes, message: `enable pruning ("prune": "safe") to save ${fmt(input.prune.savedBytes)}` });
  if (input.scan.layers.length > config.limits.maxLayers) out.push({ kind: 'layers', value: config.limits.maxLayers, savesBytes: null, message: `merge layers: ${input.scan.layers.length} configured, Lambda allows ${config.limits.maxLayers}` });
  return out;
}
