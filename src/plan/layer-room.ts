/**
 * When layers leave no room: code, bundled models and layers count against the unzipped limit whatever happens to
 * the deps, so no plan fits until a layer shrinks or goes. Says which, and by how much (docs/budget.md). PURE.
 */
import { formatExact, formatLimit } from '../lib/bytes.js';
import type { LayerScan, PlanAttempt, Suggestion } from '../types.js';

/** The trim-layer suggestions, or [] when the layers leave room (the least any plan ships is under the limit). */
export function layerRoomSuggestions(
  layers: readonly LayerScan[],
  attempts: readonly PlanAttempt[],
  maxBytes: number,
): Suggestion[] {
  // The least unzipped any plan ships: sideload-s3 keeps only code, bundled models and the layers.
  const floor = Math.min(...attempts.map((a) => a.checks.find((c) => c.limit === 'unzipped')?.used ?? Infinity));
  if (!Number.isFinite(floor) || floor <= maxBytes || layers.length === 0) return [];
  const layerBytes = layers.reduce((t, l) => t + l.bytes, 0);
  const rest = floor - layerBytes; // code (+ handler) and bundled models
  const limit = formatLimit(maxBytes);
  const out: Suggestion[] = [];
  const over = floor - maxBytes;
  for (const layer of [...layers].sort((a, b) => b.bytes - a.bytes)) {
    const room = maxBytes - (floor - layer.bytes); // what this layer may weigh with everything else as it is
    if (layer.bytes < over) continue; // even without this layer it does not fit: trimming it alone cannot help
    const alone = layer.bytes > maxBytes;
    const others = layers.length > 1 ? ' and the other layers' : '';
    const what = alone
      ? `layer ${layer.name} alone is ${formatExact(layer.bytes)}, over the ${limit} unzipped limit`
      : `layer ${layer.name} is ${formatExact(layer.bytes)}; with the code${others} ` +
        `it is ${formatExact(over)} over the ${limit} unzipped limit`;
    const fix =
      room > 0
        ? `remove it from "layers", or rebuild it to at most ${formatExact(room)} ` +
          '(drop tests, docs, caches and what the function never imports)'
        : `remove it from "layers" (the code${others} alone leave it no room)`;
    const savesBytes = layer.bytes - Math.max(0, room);
    out.push({ kind: 'trim-layer', value: layer.name, savesBytes, message: `${what}: ${fix}` });
  }
  if (out.length === 0) {
    const message =
      `the layers (${formatExact(layerBytes)}) and the code and bundled models (${formatExact(rest)}) ` +
      `are ${formatExact(over)} over the ${limit} unzipped limit: ` +
      'drop a layer, trim the layers, or move bundled models to S3 ("bundle": false)';
    out.push({ kind: 'trim-layer', value: null, savesBytes: over, message });
  }
  return out;
}
