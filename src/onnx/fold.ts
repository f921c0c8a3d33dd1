// Graph rewrites after the export, each exact to float rounding: BatchNormalization's Mul/Add folded into the Conv
// before it, a ZeroPadding2D's Pad into the next Conv's pads, Keras 3's hard_sigmoid / hard_silu layer chains
// (relu6(x + 3) / 6, times x) into HardSigmoid / HardSwish, and nodes nothing reads removed.
import { float, type Constant, type Graph, type GraphNode } from './graph.js';

/** How many rewrites of each kind were made (the convert report's notes). */
export interface FoldCounts {
  affine: number;
  pads: number;
  /** Chains that became HardSigmoid (HardSwish when multiplied by their input). */
  hard: number;
}

type Consumers = Map<string, GraphNode[]>;

function consumersOf(nodes: readonly GraphNode[]): Consumers {
  const map: Consumers = new Map();
  for (const node of nodes) {
    for (const input of node.inputs) map.set(input, [...(map.get(input) ?? []), node]);
  }
  return map;
}

/** The only node reading `name`, when nothing else (graph outputs included) reads it. */
function soleConsumer(name: string, consumers: Consumers, outputs: ReadonlySet<string>): GraphNode | undefined {
  const list = consumers.get(name) ?? [];
  return list.length === 1 && !outputs.has(name) ? list[0] : undefined;
}

type FloatConstant = Constant & { readonly data: Float32Array };

const floatConstant = (g: Graph, name: string | undefined): FloatConstant | undefined => {
  const found = name === undefined ? undefined : g.constants.get(name);
  return found?.data instanceof Float32Array ? (found as FloatConstant) : undefined;
};

/** A constant with one value per output channel of a Conv's NCHW output (dims [1, C, 1, 1] or [C, 1, 1]), or one. */
function perChannel(constant: Constant | undefined, channels: number): Float32Array | undefined {
  if (!constant || !(constant.data instanceof Float32Array)) return undefined;
  if (constant.data.length === 1) return new Float32Array(channels).fill(constant.data[0]);
  const dims = [...constant.dims];
  while (dims.length > 3 && dims[0] === 1) dims.shift();
  return dims.length === 3 && dims[0] === channels && dims[1] === 1 && dims[2] === 1 ? constant.data : undefined;
}

/** Folds x * s and x + t that follow a Conv (and read nothing else) into the Conv's kernel and bias. */
function foldAffine(g: Graph, outputs: ReadonlySet<string>, removed: Set<GraphNode>): number {
  let folded = 0;
  const consumers = consumersOf(g.nodes);
  for (const conv of g.nodes) {
    if (conv.op !== 'Conv' || removed.has(conv)) continue;
    for (;;) {
      const next = soleConsumer(conv.outputs[0], consumers, outputs);
      if (!next || (next.op !== 'Mul' && next.op !== 'Add') || next.inputs.length !== 2) break;
      const weight = floatConstant(g, conv.inputs[1]);
      if (!weight) break;
      const channels = weight.dims[0];
      const other = next.inputs[0] === conv.outputs[0] ? next.inputs[1] : next.inputs[0];
      const values = perChannel(g.constants.get(other), channels);
      if (!values) break;
      const bias = floatConstant(g, conv.inputs[2])?.data ?? new Float32Array(channels);
      const perOut = weight.data.length / channels;
      if (next.op === 'Mul') {
        const kernel = new Float32Array(weight.data.length);
        for (let o = 0; o < channels; o++) {
          const scale = values[o];
          for (let i = o * perOut; i < (o + 1) * perOut; i++) kernel[i] = weight.data[i] * scale;
        }
        conv.inputs[1] = g.floats(`${conv.inputs[1]}_folded`, kernel, weight.dims);
        conv.inputs[2] = g.floats(
          `${conv.name}_bias_folded`,
          Float32Array.from(bias, (b, o) => b * values[o]),
          [channels],
        );
      } else {
        conv.inputs[2] = g.floats(
          `${conv.name}_bias_folded`,
          Float32Array.from(bias, (b, o) => b + values[o]),
          [channels],
        );
      }
      conv.outputs[0] = next.outputs[0];
      removed.add(next);
      consumers.set(conv.outputs[0], consumers.get(next.outputs[0]) ?? []);
      folded++;
    }
  }
  return folded;
}

const int64Values = (g: Graph, name: string | undefined) => {
  const found = name === undefined ? undefined : g.constants.get(name);
  return found?.data instanceof BigInt64Array ? Array.from(found.data, Number) : undefined;
};

/** A constant Pad of 0 (or -0.0, what emit-conv.ts writes): Conv's own pads are zeros. */
function isZeroPad(g: Graph, pad: GraphNode): boolean {
  const mode = pad.attrs.mode;
  if (mode && (!('string' in mode) || mode.string !== 'constant')) return false;
  return pad.inputs.length === 2 || (pad.inputs.length === 3 && scalarIs(g, pad.inputs[2], 0));
}

/** Folds a zero Pad of height and width into the explicit pads of the Conv that alone reads it. */
function foldPads(g: Graph, outputs: ReadonlySet<string>, removed: Set<GraphNode>): number {
  let folded = 0;
  const consumers = consumersOf(g.nodes);
  for (const pad of g.nodes) {
    if (pad.op !== 'Pad' || !isZeroPad(g, pad)) continue;
    const pads = int64Values(g, pad.inputs[1]);
    const conv = soleConsumer(pad.outputs[0], consumers, outputs);
    const convPads = conv?.attrs.pads;
    if (!pads || !conv || conv.op !== 'Conv' || !convPads || !('ints' in convPads)) continue;
    if ([0, 1, 4, 5].some((axis) => pads[axis] !== 0) || pads.some((p) => p < 0)) continue;
    const [top, left, bottom, right] = convPads.ints;
    conv.attrs.pads = { ints: [top + pads[2], left + pads[3], bottom + pads[6], right + pads[7]] };
    conv.inputs[0] = pad.inputs[0];
    removed.add(pad);
    folded++;
  }
  return folded;
}

const scalarIs = (g: Graph, name: string | undefined, value: number) => {
  const data = floatConstant(g, name)?.data;
  return data !== undefined && data.length === 1 && Math.abs(data[0] - value) <= 1e-6 * Math.max(1, Math.abs(value));
};

/**
 * relu6(x + 3) / 6 (Add, Clip, Mul) becomes HardSigmoid(alpha 1/6, beta 0.5); x * that becomes HardSwish(x). The
 * chain is what `convert` writes for Keras 3's hard_sigmoid / hard_silu and what Keras 2 MobileNetV3 is made of.
 */
function foldHardSwish(g: Graph, outputs: ReadonlySet<string>, removed: Set<GraphNode>): number {
  let folded = 0;
  let consumers = consumersOf(g.nodes);
  const producer = new Map(g.nodes.flatMap((node) => node.outputs.map((name) => [name, node] as const)));
  for (const div of g.nodes) {
    if (div.op !== 'Mul' || removed.has(div) || !scalarIs(g, div.inputs[1], 1 / 6)) continue;
    const clip = producer.get(div.inputs[0]);
    if (clip?.op !== 'Clip' || soleConsumer(clip.outputs[0], consumers, outputs) !== div) continue;
    if (!scalarIs(g, clip.inputs[1], 0) || !scalarIs(g, clip.inputs[2], 6)) continue;
    const add = producer.get(clip.inputs[0]);
    if (add?.op !== 'Add' || soleConsumer(add.outputs[0], consumers, outputs) !== clip) continue;
    if (!scalarIs(g, add.inputs[1], 3)) continue;
    Object.assign(div, {
      op: 'HardSigmoid',
      inputs: [add.inputs[0]],
      attrs: { alpha: float(1 / 6), beta: float(0.5) },
    });
    removed.add(clip).add(add);
    folded++;
  }
  consumers = consumersOf(g.nodes.filter((node) => !removed.has(node)));
  for (const mul of g.nodes) {
    if (mul.op !== 'Mul' || removed.has(mul) || mul.inputs.length !== 2) continue;
    for (const [a, b] of [mul.inputs, [...mul.inputs].reverse()]) {
      const hard = producer.get(b);
      if (hard?.op !== 'HardSigmoid' || removed.has(hard) || hard.inputs[0] !== a) continue;
      if (soleConsumer(hard.outputs[0], consumers, outputs) !== mul) continue;
      const alpha = hard.attrs.alpha;
      if (!alpha || !('float' in alpha) || Math.abs(alpha.float - 1 / 6) > 1e-6) continue;
      Object.assign(mul, { op: 'HardSwish', inputs: [a], attrs: {} });
      removed.add(hard);
      break;
    }
  }
  return folded;
}

/** Drops nodes whose outputs nothing reads, and constants no node reads. */
function removeDead(g: Graph, outputs: ReadonlySet<string>): void {
  const live = new Set(outputs);
  const kept: GraphNode[] = [];
  for (const node of [...g.nodes].reverse()) {
    if (!node.outputs.some((name) => live.has(name))) continue;
    kept.push(node);
    for (const input of node.inputs) live.add(input);
  }
  g.nodes.splice(0, g.nodes.length, ...kept.reverse());
  for (const name of [...g.constants.keys()]) if (!live.has(name)) g.constants.delete(name);
}

/** Runs every rewrite; `outputs` are the graph's output names (never folded away). */
export function foldGraph(g: Graph, outputs: ReadonlySet<string>): FoldCounts {
  const removed = new Set<GraphNode>();
  const sweep = () => {
    g.nodes.splice(0, g.nodes.length, ...g.nodes.filter((node) => !removed.has(node)));
    removed.clear();
  };
  const pads = foldPads(g, outputs, removed);
  sweep();
  const affine = foldAffine(g, outputs, removed);
  sweep();
  const hard = foldHardSwish(g, outputs, removed);
  sweep();
  removeDead(g, outputs);
  return { affine, pads, hard };
}
