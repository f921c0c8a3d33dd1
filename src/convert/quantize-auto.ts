/**
 * Per-tensor quantisation that keeps answers (docs/convert.md, "--quantize auto"): each float weight tensor gets
 * uint8, float16 or float32 so that on calibration inputs no top-1 class changes and the largest output difference
 * stays within `maxDiff`. Forward passes are batched and bounded (see `searchDtypes`).
 */
import * as tf from '@tensorflow/tfjs';
import { floatToHalfBits, halfToFloat } from './float16.js';
import { uint8Grid } from './quantize.js';

export type TensorDtype = 'uint8' | 'float16' | 'float32';

/**
 * A float weight tensor of a built model, by its TF.js name; `read` gives its float32 values again (from disk or
 * memory).
 */
export interface SearchTensor {
  readonly name: string;
  readonly count: number;
  readonly read: () => Float32Array;
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

let halfTable: Float32Array | undefined;

/**
 * The float32 values TF.js decodes from a tensor stored as `dtype`, written into `out` when given (one scratch
 * buffer for every tensor of a search: no 16 MB temporary per change on a big model).
 */
export function decodedAs(values: Float32Array, dtype: TensorDtype, out?: Float32Array): Float32Array {
  if (dtype === 'float32') return values;
  const target = out ? out.subarray(0, values.length) : new Float32Array(values.length);
  if (dtype === 'float16') {
    halfTable ??= halfToFloat(Uint16Array.from({ length: 65536 }, (_, bits) => bits));
    for (let index = 0; index < values.length; index++) target[index] = halfTable[floatToHalfBits(values[index])];
    return target;
  }
  // one fused pass, the same arithmetic as quantizeUint8 then TF.js's decoding (q * scale + min)
  const { scale, min } = uint8Grid(values);
  for (let index = 0; index < values.length; index++) {
    const q = Math.round((values[index] - min) / scale);
    target[index] = (q < 0 ? 0 : q > 255 ? 255 : q) * scale + min;
  }
  return target;
}

const argmaxRows = (values: Float32Array, width: number) => {
  const rows = values.length / width;
  const out = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    let best = 0;
    for (let col = 1; col < width; col++) if (values[row * width + col] > values[row * width + best]) best = col;
    out[row] = best;
  }
  return out;
};

/** Runs the model on a fixed batch with weights swapped per tensor; compares each pass with the float32 one. */
export class Evaluator {
  passes = 0;
  private readonly variables: Map<string, tf.LayerVariable>;
  private readonly current = new Map<string, TensorDtype>();
  /** Decoded values of the tensor being changed: sized for the largest, reused for all. */
  private readonly scratch: Float32Array;
  private reference: { values: Float32Array; width: number; top: Int32Array }[] = [];

  private readonly model: tf.LayersModel;
  private readonly inputs: tf.Tensor[];
  private readonly tensors: readonly SearchTensor[];

  constructor(model: tf.LayersModel, inputs: tf.Tensor[], tensors: readonly SearchTensor[]) {
    this.model = model;
    this.inputs = inputs;
    this.tensors = tensors;
    this.variables = new Map(model.weights.map((weight) => [weight.originalName, weight]));
    for (const tensor of tensors) this.current.set(tensor.name, 'float32');
    this.scratch = new Float32Array(tensors.reduce((max, tensor) => Math.max(max, tensor.count), 0));
  }

  /** The float32 pass every verdict compares with; the model must hold its float32 weights. */
  start(): void {
    this.reference = this.run().map(({ values, width }) => ({ values, width, top: argmaxRows(values, width) }));
  }

  /** Sets every tensor to its dtype in `dtypes` (float32 when absent), writing only the tensors that change. */
  apply(dtypes: ReadonlyMap<string, TensorDtype>): void {
    for (const tensor of this.tensors) {
      const dtype = dtypes.get(tensor.name) ?? 'float32';
      if (this.current.get(tensor.name) === dtype) continue;
      const variable = this.variables.get(tensor.name);
      if (!variable) throw new Error(`quantize: no weight ${tensor.name} in the built model`);
      // write() assigns in place (the old values are freed at once); the new tensor's data moves into the variable
      // the scratch only on wasm, which copies into its heap: the cpu backend keeps the array it is given
      const scratch = tf.getBackend() === 'wasm' ? this.scratch : undefined;
      const value = tf.tensor(decodedAs(tensor.read(), dtype, scratch), variable.shape as number[], 'float32');
      variable.write(value);
      value.dispose();
      this.current.set(tensor.name, dtype);
    }
  }

  /** One batched forward pass with `dtypes` applied, compared with the reference. */
  verdict(dtypes: ReadonlyMap<string, TensorDtype>): Verdict {
    this.apply(dtypes);
    const outputs = this.run();
    let maxDiff = 0;
    let flips = 0;
    outputs.forEach(({ values, width }, index) => {
      const reference = this.reference[index];
      for (let i = 0; i < values.length; i++) {
        const diff = Math.abs(values[i] - reference.values[i]);
        // NaN (a float16 overflow, say) is the worst difference, not an ignored one
        maxDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : Math.max(maxDiff, diff);
      }
      if (width > 1)
        argmaxRows(values, width).forEach((top, row) => {
          if (top !== reference.top[row]) flips++;
        });
    });
    return { maxDiff, flips, inputs: this.inputs[0]?.shape[0] ?? 0 };
  }

  private run(): { values: Float32Array; width: number }[] {
    this.passes++;
    return tf.tidy(() => {
      const outputs = [this.model.predict(this.inputs)].flat() as tf.Tensor[];
      return outputs.map((output) => ({
        values: output.dataSync() as Float32Array,
        width: output.shape[output.shape.length - 1] ?? 1,
      }));
    });
  }
}

const passes = (verdict: Verdict, maxDiff: number) => verdict.flips === 0 && verdict.maxDiff <= maxDiff;

/** Every tensor at one dtype: what `--quantize uint8|float16` write, checked in one pass. */
export function checkFixed(
  evaluator: Evaluator,
  tensors: readonly SearchTensor[],
  dtype: 'uint8' | 'float16',
): QuantPlan {
  const dtypes = new Map(tensors.map((tensor) => [tensor.name, dtype as TensorDtype]));
  const verdict = evaluator.verdict(dtypes);
  return { dtypes, verdict, passes: evaluator.passes };
}

/**
 * The greedy search, O(k log n) passes for k tensors that uint8 alone breaks among n:
 * 1. group testing at uint8, biggest tensors first: a group that keeps the bound goes to uint8 as a whole,
 *    one that breaks it is split in two (by bytes) until the tensors that break it alone are found;
 * 2. those at float16 next to the uint8 ones are checked in one pass: usually the answer;
 * 3. else each of them is tried alone at float16 (else kept float32) and the combination is checked; while it
 * fails, the uint8 tensors with the largest measured drift (then the float16 ones) are backed off one step, in batches
 * doubling in size (1, 2, 4...), so this ends in O(log n) passes.
 * All float32 is the reference itself, so the search always ends with a passing plan.
 */
export function searchDtypes(evaluator: Evaluator, tensors: readonly SearchTensor[], maxDiff: number): QuantPlan {
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
  const [first, second] = splitByBytes(sorted);
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

/** Splits tensors (sorted biggest first) into two groups of about equal bytes, alternating so both keep big ones. */
function splitByBytes(group: readonly SearchTensor[]): [SearchTensor[], SearchTensor[]] {
  const left: SearchTensor[] = [];
  const right: SearchTensor[] = [];
  let leftCount = 0;
  let rightCount = 0;
  for (const tensor of group) {
    if (leftCount <= rightCount) {
      left.push(tensor);
      leftCount += tensor.count;
    } else {
      right.push(tensor);
      rightCount += tensor.count;
    }
  }
  return [left, right];
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
