/**
 * A built TF.js layers model as a flat list of layer calls (nested models inlined), run the way `predict` runs it, so
 * a quantisation pass can start at the first layer whose weights changed and free each layer's XNNPACK state after
 * it ran (docs/convert.md, "Quantisation"; docs/performance.md, "Keras conversion").
 */
import * as tf from '@tensorflow/tfjs';

type Kwargs = Record<string, unknown>;

/** What TF.js keeps of a call of a layer in a graph (tfjs-layers `Node`). */
interface GraphNode {
  readonly id: number;
  readonly outboundLayer: tf.layers.Layer;
  readonly inputTensors: readonly tf.SymbolicTensor[];
  readonly outputTensors: readonly tf.SymbolicTensor[];
  readonly callArgs?: Kwargs;
}

/** The parts of a tfjs-layers `Container` (a model) a flat plan needs. */
interface Graph {
  readonly inputs: readonly tf.SymbolicTensor[];
  readonly outputs: readonly tf.SymbolicTensor[];
  readonly nodesByDepth: Record<string, readonly GraphNode[]>;
}

/** One layer call; tensors are named by keys unique over the inlined graph. */
export interface LayerStep {
  readonly layer: tf.layers.Layer;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Called inside a nested model: as Container.runInternalGraph calls it (`call` with the node's kwargs). */
  readonly callArgs?: Kwargs;
  readonly isNested: boolean;
}

/** A model as steps, with the symbolic shape of every key (the byte cost of caching it). */
export interface StepPlan {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly steps: readonly LayerStep[];
  readonly shapes: ReadonlyMap<string, readonly (number | null)[]>;
}

/** The graph of a model layer (a Sequential's is its inner model), or undefined for a plain layer. */
function graphOf(layer: tf.layers.Layer): Graph | undefined {
  if (layer instanceof tf.Sequential) {
    const sequential = layer as unknown as { model?: tf.LayersModel; build(): void };
    if (!sequential.model) sequential.build(); // what predict does first
    return graphOf(sequential.model!);
  }
  return layer instanceof tf.LayersModel ? (layer as unknown as Graph) : undefined;
}

/** Flattens a built model into steps in an order `predict` could run them (deepest nodes first, as TF.js does). */
export function planSteps(model: tf.LayersModel): StepPlan {
  const graph = graphOf(model);
  if (!graph) throw new Error('convert: not a layers model');
  const steps: LayerStep[] = [];
  const shapes = new Map<string, readonly (number | null)[]>();
  const visit = (inner: Graph, scope: string, inputKeys: readonly string[], isNested: boolean): string[] => {
    const keys = new Map<number, string>();
    inner.inputs.forEach((input, index) => keys.set(input.id, inputKeys[index]));
    const keyOf = (tensor: tf.SymbolicTensor) => {
      const key = keys.get(tensor.id);
      if (key === undefined) throw new Error(`convert: ${tensor.name} is used before it is computed`);
      return key;
    };
    const depths = Object.keys(inner.nodesByDepth)
      .map(Number)
      .sort((a, b) => b - a);
    for (const depth of depths) {
      for (const node of inner.nodesByDepth[depth]) {
        const layer = node.outboundLayer;
        if (layer.getClassName() === 'InputLayer') continue;
        const inputs = node.inputTensors.map(keyOf);
        const nested = graphOf(layer);
        if (nested) {
          const outs = visit(nested, `${scope}${node.id}/`, inputs, true);
          node.outputTensors.forEach((tensor, index) => keys.set(tensor.id, outs[index]));
          continue;
        }
        const outputs = node.outputTensors.map((tensor) => {
          const key = `${scope}${tensor.id}`;
          keys.set(tensor.id, key);
          shapes.set(key, tensor.shape);
          return key;
        });
        steps.push({ layer, inputs, outputs, callArgs: node.callArgs, isNested });
      }
    }
    return inner.outputs.map(keyOf);
  };
  const inputs = graph.inputs.map((input) => String(input.id));
  graph.inputs.forEach((input, index) => shapes.set(inputs[index], input.shape));
  const outputs = visit(graph, '', inputs, false);
  return { inputs, outputs, steps, shapes };
}

/** Keys computed before `step` that it or a later step reads, or that are model outputs. */
export function liveBefore(plan: StepPlan, step: number): string[] {
  const produced = new Set(plan.inputs);
  for (const earlier of plan.steps.slice(0, step)) for (const key of earlier.outputs) produced.add(key);
  const needed = new Set(plan.outputs);
  for (const later of plan.steps.slice(step)) for (const key of later.inputs) needed.add(key);
  return [...produced].filter((key) => needed.has(key));
}

/** A computed tensor with its Keras mask (null for almost every image model). */
export type StepValue = { readonly tensor: tf.Tensor; readonly mask: tf.Tensor | null };

const toList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * Computes a step's outputs another way (the same values to float rounding), or returns undefined to let the layer
 * compute them.
 */
export type StepCompute = (step: LayerStep, inputs: readonly tf.Tensor[]) => tf.Tensor[] | undefined;

/** Calls one step on concrete tensors as predict (top level) or runInternalGraph (nested models) would. */
function callStep(step: LayerStep, values: readonly StepValue[], compute?: StepCompute): StepValue[] {
  const tensors = values.map((value) => value.tensor);
  const masks = values.map((value) => value.mask);
  const { layer } = step;
  // tidy keeps the tensors returned (masks may be null, which it skips)
  return tf.tidy((() => {
    let outputs: tf.Tensor[];
    let outMasks: (tf.Tensor | null)[];
    const computed = compute?.(step, tensors);
    if (step.isNested) {
      const kwargs: Kwargs = { ...step.callArgs };
      const input = tensors.length === 1 ? tensors[0] : tensors;
      const mask = tensors.length === 1 ? masks[0] : masks;
      if (kwargs.mask == null) kwargs.mask = mask;
      outputs = computed ?? toList(layer.call(input, kwargs));
      outMasks = toList(layer.computeMask(input, (mask ?? undefined) as tf.Tensor) as tf.Tensor | null);
    } else {
      const hasMask = masks.some((mask) => mask != null);
      outputs =
        computed ?? toList(layer.apply(tensors, hasMask ? { mask: masks[0] } : undefined) as tf.Tensor | tf.Tensor[]);
      const mask = layer.supportsMasking
        ? (layer.computeMask(tensors, masks as tf.Tensor[]) as tf.Tensor | tf.Tensor[] | null)
        : null;
      outMasks = outputs.map(() => (Array.isArray(mask) ? mask[0] : mask));
    }
    return outputs.map((tensor, index) => ({ tensor, mask: outMasks[index] ?? null }));
  }) as () => tf.TensorContainer) as unknown as StepValue[];
}

/** A model output read back: its values and shape. */
export interface StepOutput {
  readonly values: Float32Array;
  readonly shape: readonly number[];
}

/**
 * Runs steps `from`..end and reads the model outputs. `start` holds every key live before `from` (the model inputs
 * when `from` is 0); those are never disposed. Before each step in `snapshots` (step -> the keys live before it),
 * their values are put in `kept` and kept after the run (prefix caches); `after(step)` runs once each step is done
 * (the caller frees XNNPACK state there); `compute` may compute a step another way.
 */
export function runSteps(
  plan: StepPlan,
  options: {
    readonly from: number;
    readonly start: ReadonlyMap<string, StepValue>;
    readonly snapshots?: ReadonlyMap<number, readonly string[]>;
    readonly kept?: Map<number, Map<string, StepValue>>;
    readonly after?: (step: LayerStep) => void;
    readonly compute?: StepCompute;
  },
): StepOutput[] {
  const { from, start } = options;
  const values = new Map(start);
  const lastUse = new Map<string, number>();
  plan.steps.forEach((step, index) => {
    if (index >= from) for (const key of step.inputs) lastUse.set(key, index);
  });
  for (const key of plan.outputs) lastUse.set(key, Number.POSITIVE_INFINITY);
  const protect = new Set<tf.Tensor>();
  const guard = (value: StepValue) => {
    protect.add(value.tensor);
    if (value.mask) protect.add(value.mask);
  };
  for (const value of start.values()) guard(value);
  // one tensor can sit under several keys (a layer that returns its input): freed when no key holds it
  const holders = new Map<tf.Tensor, number>();
  const hold = (value: StepValue) => holders.set(value.tensor, (holders.get(value.tensor) ?? 0) + 1);
  const release = (key: string) => {
    const value = values.get(key)!;
    values.delete(key);
    const left = holders.get(value.tensor)! - 1;
    holders.set(value.tensor, left);
    if (left === 0 && !protect.has(value.tensor)) value.tensor.dispose();
  };
  for (const value of values.values()) hold(value);
  const masks = new Set<tf.Tensor>();
  for (let index = from; index < plan.steps.length; index++) {
    const snapshot = options.snapshots?.get(index);
    if (snapshot) {
      const cache = new Map(snapshot.map((key) => [key, values.get(key)!] as const));
      for (const value of cache.values()) guard(value);
      options.kept?.set(index, cache);
    }
    const step = plan.steps[index];
    const inputs = step.inputs.map((key) => {
      const value = values.get(key);
      if (!value) throw new Error(`convert: step ${step.layer.name} reads ${key}, which is not computed`);
      return value;
    });
    const outputs = callStep(step, inputs, options.compute);
    step.outputs.forEach((key, position) => {
      values.set(key, outputs[position]);
      hold(outputs[position]);
      if (outputs[position].mask) masks.add(outputs[position].mask!);
    });
    options.after?.(step);
    for (const key of new Set(step.inputs)) if (lastUse.get(key) === index) release(key);
    // an output no later step reads (a layer's unused second output) is freed at once
    for (const key of step.outputs) if (!lastUse.has(key)) release(key);
  }
  const outputs = plan.outputs.map((key) => values.get(key)!.tensor);
  const read = outputs.map((tensor) => ({ values: tensor.dataSync() as Float32Array, shape: tensor.shape }));
  for (const tensor of new Set([...outputs, ...masks])) if (!protect.has(tensor)) tensor.dispose();
  return read;
}
