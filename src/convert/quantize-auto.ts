/**
 * Per-tensor quantisation that keeps answers (docs/convert.md, "--quantize auto"): each float weight tensor gets
 * uint8, float16 or float32 so that on calibration inputs no top-1 class changes and the largest output difference
 * stays within `maxDiff`. Forward passes are batched and bounded (see `searchDtypes`).
 */
import { roundToHalf } from './float16.js';
import { uint8Grid, type Grid } from './quantize.js';

export type TensorDtype = 'uint8' | 'float16' | 'float32';

/**
 * A float weight tensor of a built model, by its TF.js name; `read` gives its float32 values again (from disk or
 * memory), into `out` when given and it needs a copy (the result is only valid until the next read into `out`).
 */
export interface SearchTensor {
  readonly name: string;
  readonly count: number;
  readonly read: (out?: Float32Array) => Float32Array;
}

/** How a quantised model's outputs differ from float32's on the calibration batch. */
export interface Verdict {
  readonly maxDiff: number;
  readonly flips: number;
  readonly inputs: number;
}

/** What the search (or the single check of a fixed mode) chose. */
export interface QuantPlan {
  readonly dtypes: ReadonlyMap<string, TensorDtype>;
  readonly verdict: Verdict;
  /** Forward passes of the calibration batch, the reference one included. */
  readonly passes: number;
}

/**
 * The float32 values TF.js decodes from a tensor stored as `dtype`, written into `out` when given (which may be
 * `values` itself: each value is read before its slot is written); uint8 on `grid` when given (that of `values`).
 */
export function decodedAs(values: Float32Array, dtype: TensorDtype, out?: Float32Array, grid?: Grid): Float32Array {
  if (dtype === 'float32') return values;
  const target = out ? out.subarray(0, values.length) : new Float32Array(values.length);
  if (dtype === 'float16') return roundToHalf(values, target);
  // one fused pass, the same arithmetic as quantizeUint8 then TF.js's decoding (q * scale + min)
  const { scale, min } = grid ?? uint8Grid(values);
  for (let index = 0; index < values.length; index++) {
    const q = Math.round((values[index] - min) / scale);
    target[index] = (q < 0 ? 0 : q > 255 ? 255 : q) * scale + min;
  }
  return target;
}

/** What the search needs of the calibration passes (evaluator.ts). */
export interface PassRunner {
  readonly passes: number;
  /** One forward pass with `dtypes` (float32 when absent), compared with the float32 reference. */
  verdict(dtypes: ReadonlyMap<string, TensorDtype>): Verdict;
}

const passes = (verdict: Verdict, maxDiff: number) => verdict.flips === 0 && verdict.maxDiff <= maxDiff;

/** Every tensor at one dtype: what `--quantize uint8|float16` write, checked in one pass. */
export function checkFixed(
  evaluator: PassRunner,
  tensors: readonly SearchTensor[],
  dtype: 'uint8' | 'float16',
): QuantPlan {
  const dtypes = new Map(tensors.map((tensor) => [tensor.name, dtype as TensorDtype]));
  const verdict = evaluator.verdict(dtypes);
  return { dtypes, verdict, passes: evaluator.passes };
}

/**
 * The greedy search, O(k log n) passes for k tensors that uint8 alone breaks among n:
 * 1. group testing at uint8 in model order: a group that keeps the bound goes to uint8 as a whole, one that breaks it
 *    is split in two runs of about equal bytes until the tensors that break it alone are found (a pass on a later run
 *    starts at its first layer);
 * 2. those at float16 next to the uint8 ones are checked in one pass: usually the answer;
 * 3. else each of them is tried alone at float16 (else kept float32) and the combination is checked; while it
 * fails, the uint8 tensors with the largest measured drift (then the float16 ones) are backed off one step, in batches
 * doubling in size (1, 2, 4...), so this ends in O(log n) passes.
 * All float32 is the reference itself, so the search always ends with a passing plan.
 */
export function searchDtypes(evaluator: PassRunner, tensors: readonly SearchTensor[], maxDiff: number): QuantPlan {
  const sorted = [...tensors].sort((a, b) => b.count - a.count);
  const dtypes = new Map<string, TensorDtype>();
  const drift = new Map<string, number>();
  const alone = (group: readonly SearchTensor[], dtype: TensorDtype) =>
    evaluator.verdict(new Map(group.map((tensor) => [tensor.name, dtype])));
  const bad: SearchTensor[] = [];
  const bisect = (group: readonly SearchTensor[]) => {
    const verdict = alone(group, 'uint8');
    if (passes(verdict, maxDiff)) {
      for (const tensor of group) {
        dtypes.set(tensor.name, 'uint8');
        drift.set(tensor.name, verdict.maxDiff);
      }
      return;
    }
    if (group.length === 1) {
      bad.push(group[0]);
      return;
    }
    const [left, right] = splitByBytes(group);
    bisect(left);
    bisect(right);
  };
  if (sorted.length === 0) return { dtypes, verdict: evaluator.verdict(dtypes), passes: evaluator.passes };
  const all = alone(sorted, 'uint8');
  if (passes(all, maxDiff))
    return { dtypes: new Map(sorted.map((tensor) => [tensor.name, 'uint8'])), verdict: all, passes: evaluator.passes };
  const [first, second] = splitByBytes(tensors);
  bisect(first);
  bisect(second);
  if (bad.length > 0) {
    // the usual answer in one pass: the tensors uint8 breaks at float16 next to the uint8 groups (the combination
    // check)
    const hopeful = new Map(dtypes);
    for (const tensor of bad) hopeful.set(tensor.name, 'float16');
    const verdict = evaluator.verdict(hopeful);
    if (passes(verdict, maxDiff)) return { dtypes: hopeful, verdict, passes: evaluator.passes };
  }
  for (const tensor of bad) {
    const verdict = alone([tensor], 'float16');
    dtypes.set(tensor.name, passes(verdict, maxDiff) ? 'float16' : 'float32');
    drift.set(tensor.name, verdict.maxDiff);
  }
  let verdict = evaluator.verdict(dtypes);
  for (const [from, to] of [
    ['uint8', 'float16'],
    ['float16', 'float32'],
  ] as const) {
    const queue = sorted
      .filter((tensor) => dtypes.get(tensor.name) === from)
      .sort((a, b) => (drift.get(b.name) ?? 0) - (drift.get(a.name) ?? 0) || b.count - a.count);
    for (let size = 1; !passes(verdict, maxDiff) && queue.length > 0; size *= 2) {
      for (const tensor of queue.splice(0, size)) dtypes.set(tensor.name, to);
      verdict = evaluator.verdict(dtypes);
    }
  }
  return { dtypes, verdict, passes: evaluator.passes };
}

/**
 * Splits tensors (in model order) into a first and a second run of about equal bytes: a pass that changes only the
 * second run starts where it does, from the float32 activations cached there (evaluator.ts).
 */
function splitByBytes(group: readonly SearchTensor[]): [SearchTensor[], SearchTensor[]] {
  const total = group.reduce((sum, tensor) => sum + tensor.count, 0);
  let cut = 1;
  let bytes = group[0]?.count ?? 0;
  while (cut < group.length - 1 && bytes + group[cut].count / 2 <= total / 2) bytes += group[cut++].count;
  return [group.slice(0, cut), group.slice(cut)];
}

/** Counts by dtype and the largest tensors, for the report. */
export function summarise(plan: QuantPlan, tensors: readonly SearchTensor[], top = 5) {
  const counts = { uint8: 0, float16: 0, float32: 0 };
  for (const tensor of tensors) counts[plan.dtypes.get(tensor.name) ?? 'float32']++;
  const largest = [...tensors]
    .sort((a, b) => b.count - a.count)
    .slice(0, top)
    .map((tensor) => ({ name: tensor.name, params: tensor.count, dtype: plan.dtypes.get(tensor.name) ?? 'float32' }));
  return { counts, largest };
}
