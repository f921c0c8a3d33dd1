/**
 * The calibration passes of `--quantize` (docs/convert.md, "Quantisation"). The model runs as a flat list of layer
 * calls (layer-steps.ts), so:
 * - a pass starts at the first layer whose weights differ from float32, from the float32 activations the reference
 *   pass cached there (a byte budget decides which layers get a cache);
 * - on wasm the model holds one copy of its weights, not two: XNNPACK packs a private copy of a Dense or conv kernel
 *   into an operator it keeps until that tensor is freed. Dense layers run through a product that packs nothing, and
 *   after each layer ran its smallest weight gets a fresh tensor, which frees the operators keyed on it (docs/
 *   performance.md, "Keras conversion").
 */
import * as tf from '@tensorflow/tfjs';
import { liveBefore, planSteps, runSteps, type LayerStep, type StepPlan, type StepValue } from './layer-steps.js';
import { uint8Grid, type Grid } from './quantize.js';
import { writeWeight } from './weight-writer.js';
import { decodedAs, type PassRunner, type SearchTensor, type TensorDtype, type Verdict } from './quantize-auto.js';

/** Bytes of float32 activations the reference pass keeps for later passes to start from. */
export const PREFIX_CACHE_BYTES = 33_554_432;

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
export class Evaluator implements PassRunner {
  passes = 0;
  /** The step the last pass started at (0: from the inputs). */
  lastBegin = 0;
  /** Each tensor's uint8 grid, computed the first time it is decoded (the writer reuses them: one read less). */
  readonly grids = new Map<string, Grid>();
  private readonly variables: Map<string, tf.LayerVariable>;
  private readonly current = new Map<string, TensorDtype>();
  private reference: { values: Float32Array; width: number; top: Int32Array }[] = [];
  private readonly plan: StepPlan;
  /** The first step that reads each weight (by TF.js name). */
  private readonly firstStep = new Map<string, number>();
  /** Steps whose live inputs the reference pass caches, with those keys. */
  private readonly snapshots = new Map<number, string[]>();
  private readonly cache = new Map<number, Map<string, StepValue>>();

  private readonly inputs: tf.Tensor[];
  private readonly tensors: readonly SearchTensor[];

  constructor(
    model: tf.LayersModel,
    inputs: tf.Tensor[],
    tensors: readonly SearchTensor[],
    options: { readonly cacheBytes?: number } = {},
  ) {
    this.inputs = inputs;
    this.tensors = tensors;
    this.variables = new Map(model.weights.map((weight) => [weight.originalName, weight]));
    this.plan = planSteps(model);
    this.plan.steps.forEach((step, index) => {
      for (const weight of step.layer.weights)
        if (!this.firstStep.has(weight.originalName)) this.firstStep.set(weight.originalName, index);
    });
    this.chooseSnapshots(options.cacheBytes ?? PREFIX_CACHE_BYTES);
  }

  /**
   * Writes every tensor's float32 values into the model (so a caller need not load them first: on wasm they go
   * straight into the heap, weight-writer.ts) and runs the float32 pass every verdict compares with.
   */
  start(): void {
    this.apply(new Map());
    const outputs = this.run(0, true);
    this.reference = outputs.map(({ values, width }) => ({ values, width, top: argmaxRows(values, width) }));
  }

  /**
   * Sets every tensor to its dtype in `dtypes` (float32 when absent), writing only the tensors that change (all of
   * them the first time).
   */
  apply(dtypes: ReadonlyMap<string, TensorDtype>): void {
    for (const tensor of this.tensors) {
      const dtype = dtypes.get(tensor.name) ?? 'float32';
      if (this.current.get(tensor.name) === dtype) continue;
      const variable = this.variables.get(tensor.name);
      if (!variable) throw new Error(`quantize: no weight ${tensor.name} in the built model`);
      writeWeight(variable, (target) => {
        // read into the target and decode there: each value depends on itself and the tensor's grid, computed first
        const values = tensor.read(target);
        const grid = dtype === 'uint8' ? this.gridOf(tensor.name, values) : undefined;
        const decoded = decodedAs(values, dtype, target, grid);
        if (decoded.buffer !== target.buffer || decoded.byteOffset !== target.byteOffset) target.set(decoded);
      });
      this.current.set(tensor.name, dtype);
    }
  }

  private gridOf(name: string, values: Float32Array): Grid {
    let grid = this.grids.get(name);
    if (!grid) this.grids.set(name, (grid = uint8Grid(values)));
    return grid;
  }

  /** The step a pass with `dtypes` must start at: the first that reads a weight not at float32. */
  firstChanged(dtypes: ReadonlyMap<string, TensorDtype>): number {
    let first = this.plan.steps.length;
    for (const [name, dtype] of dtypes) if (dtype !== 'float32') first = Math.min(first, this.firstStep.get(name) ?? 0);
    return first;
  }

  /** One batched forward pass with `dtypes` applied, compared with the reference. */
  verdict(dtypes: ReadonlyMap<string, TensorDtype>): Verdict {
    this.apply(dtypes);
    const outputs = this.run(this.firstChanged(dtypes), false);
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

  /** Frees the cached activations (the calibration inputs stay the caller's). */
  dispose(): void {
    const inputs = new Set(this.inputs);
    for (const cache of this.cache.values())
      for (const value of cache.values()) if (!inputs.has(value.tensor)) tf.dispose([value.tensor, value.mask ?? []]);
    this.cache.clear();
  }

  /**
   * Runs the model from the latest cached step at or before `from` (the inputs when none); the reference pass
   * (`isReference`) runs from the inputs and fills the cache.
   */
  private run(from: number, isReference: boolean): { values: Float32Array; width: number }[] {
    this.passes++;
    const isWasm = tf.getBackend() === 'wasm';
    let begin = 0;
    if (!isReference) for (const step of this.cache.keys()) if (step <= from && step > begin) begin = step;
    this.lastBegin = begin;
    const start =
      begin === 0
        ? new Map(this.plan.inputs.map((key, i) => [key, { tensor: this.inputs[i], mask: null }]))
        : undefined;
    const outputs = runSteps(this.plan, {
      from: begin,
      start: start ?? this.cache.get(begin)!,
      snapshots: isReference ? this.snapshots : undefined,
      kept: isReference ? this.cache : undefined,
      after: isWasm ? renewWeights : undefined,
      compute: isWasm ? denseUnpacked : undefined,
    });
    return outputs.map(({ values, shape }) => ({ values, width: shape[shape.length - 1] ?? 1 }));
  }

  /**
   * Picks the steps to cache, latest first (a late start saves the most), while their live activations fit in
   * `budget` bytes; only steps where some weight is first read can start a pass.
   */
  private chooseSnapshots(budget: number): void {
    const batch = this.inputs[0]?.shape[0] ?? 1;
    const bytes = (key: string) => {
      const shape = this.plan.shapes.get(key);
      if (!shape || shape.slice(1).some((size) => size === null)) return Number.POSITIVE_INFINITY;
      return shape.slice(1).reduce<number>((product, size) => product * size!, batch) * 4;
    };
    const candidates = [...new Set(this.firstStep.values())].filter((step) => step > 0).sort((a, b) => b - a);
    const chosen = new Set<string>();
    let used = 0;
    for (const step of candidates) {
      const live = liveBefore(this.plan, step);
      const extra = live.filter((key) => !chosen.has(key)).reduce((sum, key) => sum + bytes(key), 0);
      if (used + extra > budget) continue;
      used += extra;
      for (const key of live) chosen.add(key);
      this.snapshots.set(step, live);
    }
  }
}

/**
 * Frees the XNNPACK operators the wasm backend cached for a layer that just ran, with the kernels they packed: an
 * operator lives until a tensor it is keyed on is freed, so the layer's smallest weight gets a fresh tensor with the
 * same values (`x * 1` is exact). Dense and Conv2D run fused ops keyed on their bias as well as their kernel, so the
 * bias is enough and no kernel-sized block is allocated; a layer with one weight gets that one renewed. An operator
 * keyed on no renewed weight (a recurrent layer's kernel) stays cached as before: one packed copy, reused.
 */
export function renewWeights(step: LayerStep): void {
  const weights = step.layer.weights;
  if (weights.length === 0) return;
  const smallest = weights.reduce((best, weight) => (sizeOf(weight.shape) < sizeOf(best.shape) ? weight : best));
  const variable = smallest.read() as tf.Variable;
  const copy = tf.tidy(() => tf.mul(variable, tf.scalar(1, smallest.dtype)));
  variable.assign(copy); // not LayerVariable.write, which would apply a constraint again
  copy.dispose();
}

/** The members of tfjs-layers' Dense that its `call` uses. */
interface DenseLayer {
  readonly kernel: tf.LayerVariable;
  readonly bias: tf.LayerVariable | null;
  readonly activation: { apply(x: tf.Tensor): tf.Tensor };
}

/**
 * A Dense layer on a 2-D input as `x · kernel + bias` through the matMul that packs nothing (the input transposed,
 * then transposeA): Dense's own fused matMul makes XNNPACK pack a private copy of the kernel, as large as the kernel,
 * so a big model's passes need that much more heap. The values agree with Dense's to float rounding (~1e-6); every
 * pass of a search, the reference included, computes them this way. The bias and the activation are applied after
 * the product, as Dense does when its activation cannot be fused.
 */
export const denseUnpacked = (step: LayerStep, inputs: readonly tf.Tensor[]): tf.Tensor[] | undefined => {
  if (step.layer.getClassName() !== 'Dense' || inputs.length !== 1 || inputs[0].rank !== 2) return undefined;
  const dense = step.layer as unknown as DenseLayer;
  const product = tf.matMul(tf.transpose(inputs[0]), dense.kernel.read(), true, false);
  const biased = dense.bias ? tf.add(product, dense.bias.read()) : product;
  return [dense.activation.apply(biased)];
};

const sizeOf = (shape: readonly (number | null)[]) => shape.reduce<number>((product, size) => product * (size ?? 1), 1);
