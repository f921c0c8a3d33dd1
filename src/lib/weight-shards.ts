/** A TF.js weights manifest against its shards: a cut or swapped shard is caught before it ships (docs/budget.md). */
import { basename } from 'node:path';
import { formatExact } from './bytes.js';
import { inputError } from './errors.js';

/** Bytes per stored element: the quantization dtype when quantized, else the weight's dtype. */
const STORED_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
  int8: 1,
  int16: 2,
};

/** One manifest weight, as model.json lists it. */
export interface ManifestWeight {
  readonly name?: string;
  readonly shape?: readonly number[];
  readonly dtype?: string;
  readonly quantization?: { readonly dtype?: string };
}

/** One manifest group: its shard files and the weights they hold, concatenated in order. */
export interface ManifestGroup {
  readonly paths?: readonly string[];
  readonly weights?: readonly ManifestWeight[];
}

/** Bytes a group's shards must hold together, or null when a weight's size is unknown (strings, other dtypes). */
export function groupBytes(group: ManifestGroup): number | null {
  let total = 0;
  for (const weight of group.weights ?? []) {
    const dtype = weight.quantization?.dtype ?? weight.dtype ?? 'float32';
    const size = STORED_BYTES[dtype];
    if (size === undefined) return null;
    total += (weight.shape ?? []).reduce((a, b) => a * b, 1) * size;
  }
  return total;
}

/**
 * Throws when a group's shards do not hold the bytes its weights need. Converters cut groups into equal shards
 * (4 MiB by default) with a shorter last one, so the shard that differs from that layout is the one named.
 */
export function checkShardSizes(modelLabel: string, group: ManifestGroup, sizes: readonly number[]): void {
  const expected = groupBytes(group);
  const paths = group.paths ?? [];
  const found = sizes.reduce((a, b) => a + b, 0);
  if (expected === null || found === expected || paths.length === 0) return;
  const hint =
    'the shard is truncated or belongs to another model: ' +
    'copy it again from where the model was converted (or run lambda-ml convert again)';
  const full = Math.max(...sizes);
  const last = expected - (paths.length - 1) * full;
  const layoutFits = paths.length === 1 || (last > 0 && last <= full);
  if (layoutFits) {
    for (let i = 0; i < paths.length; i++) {
      const want = paths.length === 1 ? expected : i < paths.length - 1 ? full : last;
      if (sizes[i] !== want) {
        const shard = basename(paths[i]);
        const needs = `the weights manifest needs ${formatExact(want)}`;
        throw inputError(`${modelLabel}: weight shard ${shard} is ${formatExact(sizes[i])}, ${needs}`, hint);
      }
    }
  }
  const shards = paths.map((p) => basename(p)).join(', ');
  const needs = `the weights manifest needs ${formatExact(expected)}`;
  throw inputError(`${modelLabel}: weight shards ${shards} hold ${formatExact(found)}, ${needs}`, hint);
}
