/** The smallest changes that make an unfit project fit (docs/design.md §3 budget). PURE. */
import { formatBytes as fmt, formatMb, formatMiB } from '../lib/bytes.js';
import { MEMORY_MAX_MB, MiB } from '../lib/limits.js';
import type { PlanAttempt, Suggestion } from '../types.js';
import { layerRoomSuggestions } from './layer-room.js';
import { attempt, ephemeralMbFor, type PlanInput } from './attempt.js';

/** Suggestions, most useful first: each one is checked against the planner, not guessed. */
export function suggestFixes(input: PlanInput, attempts: readonly PlanAttempt[]): Suggestion[] {
  const out: Suggestion[] = [];
  const { config } = input;
  const failing = (a: PlanAttempt) => a.checks.filter((c) => !c.ok && c.blocking);

  // 0. Layers that leave no room come first: until they shrink, nothing else can fit.
  out.push(...layerRoomSuggestions(input.scan.layers, attempts, config.limits.unzippedBytes));

  // 1. Resource settings: the first strategy whose only failures are /tmp and/or memory.
  for (const a of attempts) {
    const fails = failing(a);
    if (!fails.every((c) => c.limit === 'tmp' || c.limit === 'memory')) continue;
    const tmp = fails.find((c) => c.limit === 'tmp');
    const memory = fails.find((c) => c.limit === 'memory');
    const tmpMb = tmp ? ephemeralMbFor(tmp.used) : null;
    const memMb = memory ? Math.ceil(memory.used / MiB) : null;
    if ((tmp && tmpMb === null) || (memMb !== null && memMb > MEMORY_MAX_MB)) continue;
    if (tmp && tmpMb !== null)
      out.push({
        kind: 'ephemeral-storage',
        value: tmpMb,
        savesBytes: null,
        message:
          `raise function.ephemeralStorageMb to ${tmpMb} (${a.strategy} needs ${formatMiB(tmp.used)} of ` +
          `/tmp, over the configured ${formatMb(config.function.ephemeralStorageMb)})`,
      });
    if (memMb !== null)
      out.push({
        kind: 'memory',
        value: memMb,
        savesBytes: null,
        message:
          `raise function.memoryMb to ${memMb} (${a.strategy} needs ` +
          `about ${formatMiB(memory!.used)}, over the configured ${formatMb(config.function.memoryMb)})`,
      });
    break;
  }

  // 2. Quantising float32 models cuts their download and /tmp bytes by ~75% (uint8) — checked by re-planning.
  for (const model of input.scan.models) {
    if (model.quantization !== null) continue;
    if (model.backend === 'onnx') continue; // ONNX models run float32: quantising means the wasm backend
    // uint8 stores one byte per float32 weight: the model shrinks to about memoryBytes / 4 (its real weight count).
    const saves = Math.max(0, model.bytes - Math.ceil(model.memoryBytes / 4));
    if (saves === 0) continue;
    const models = input.scan.models.map((m) =>
      m === model ? { ...m, bytes: m.bytes - saves, memoryBytes: m.memoryBytes } : m,
    );
    const helps = attempts.some((a) => attempt(a.strategy, { ...input, scan: { ...input.scan, models } }).fits);
    out.push({
      kind: 'quantize',
      value: model.name,
      savesBytes: saves,
      message:
        `quantize model ${model.name} (up to -${Math.round((saves / model.bytes) * 100)}%: ${fmt(saves)} less to ` +
        `download and keep in /tmp${helps ? '; this alone makes it fit' : ''}): lambda-ml ` +
        `convert MODEL OUT --quantize auto`,
    });
  }

  // 3. Moving deps to a layer: the layer counts against the same unzipped limit, so it only helps when it frees
  //    /tmp (sideloaded deps) or the function zip. Checked by re-planning with the biggest packages moved, one more
  //    at a time; the deps.zip size shrinks in proportion to the bytes moved.
  const kept = input.strip.packages.filter((p) => p.providedBy === null && p.bytes > 0);
  const afterPrune = input.strip.afterStrip - input.prune.savedBytes;
  let moved = 0;
  for (let n = 1; n <= Math.min(5, kept.length); n++) {
    moved += kept[n - 1].bytes;
    const share = afterPrune > 0 ? Math.max(0, afterPrune - moved) / afterPrune : 0;
    const scan = {
      ...input.scan,
      layers: [
        ...input.scan.layers,
        {
          name: 'new-layer',
          source: 'dir' as const,
          location: '',
          bytes: moved,
          zipBytes: null,
          files: 0,
          provides: [],
        },
      ],
    };
    const trial: PlanInput = {
      ...input,
      scan,
      strip: { ...input.strip, afterStrip: Math.max(0, input.strip.afterStrip - moved) },
      depsZipBytes: input.depsZipBytes === null ? null : Math.round(input.depsZipBytes * share),
      bundleZipBytes: input.bundleZipBytes === null ? null : Math.round(input.bundleZipBytes * share),
    };
    const fits = attempts.map((a) => attempt(a.strategy, trial)).find((a) => a.fits);
    if (fits && scan.layers.length <= config.limits.maxLayers) {
      const names = kept.slice(0, n).map((p) => `${p.name}@${p.version}`);
      out.push({
        kind: 'move-to-layer',
        value: names.join(' '),
        savesBytes: moved,
        message: `move ${names.join(', ')} (${fmt(moved)}) into a layer: then ${fits.strategy} fits`,
      });
      break;
    }
  }
  if (input.prune.mode === 'off' && input.prune.savedBytes > 0)
    out.push({
      kind: 'prune',
      value: 'safe',
      savesBytes: input.prune.savedBytes,
      message: `enable pruning ("prune": "safe") to save ${fmt(input.prune.savedBytes)}`,
    });
  if (input.scan.layers.length > config.limits.maxLayers)
    out.push({
      kind: 'layers',
      value: config.limits.maxLayers,
      savesBytes: null,
      message: `merge layers: ${input.scan.layers.length} configured, Lambda allows ${config.limits.maxLayers}`,
    });
  return out;
}
