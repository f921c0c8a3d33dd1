// A small ONNX graph under construction: nodes in topological order, constant tensors, and the layout of every
// 4-D value. Keras is channels last (NHWC); ONNX's Conv and pooling are channels first (NCHW). A value keeps the
// layout it was made in and is transposed only when a node needs the other one (each conversion made once).

/** An attribute value, typed as ONNX stores it (a JS number does not say int or float). */
export type Attr =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly string: string };

export const int = (value: number): Attr => ({ int: value });
export const float = (value: number): Attr => ({ float: value });
export const ints = (value: readonly number[]): Attr => ({ ints: value });
export const str = (value: string): Attr => ({ string: value });

/** One ONNX node. */
export interface GraphNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

/** A constant tensor (an initializer): float32 or int64 values. */
export interface Constant {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** Physical layout of a value: as Keras has it, or channels first (4-D values only). */
export type Layout = 'keras' | 'nchw';

/** A tensor of the graph: its name, its Keras shape (batch first, null when unknown) and its layout. */
export interface Value {
  readonly name: string;
  readonly shape: readonly (number | null)[];
  readonly layout: Layout;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** Where Keras axis `axis` (negative counts from the end) of a value sits physically. */
export function physicalAxis(value: Value, axis: number): number {
  const rank = value.shape.length;
  const keras = axis < 0 ? axis + rank : axis;
  return value.layout === 'nchw' ? TO_NCHW.indexOf(keras) : keras;
}

/** The graph being built. */
export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly constants = new Map<string, Constant>();
  private readonly used = new Set<string>();
  private readonly converted = new Map<string, Value>();

  /** A name not used yet, from `base`. */
  unique(base: string): string {
    let name = base;
    for (let n = 1; this.used.has(name); n++) name = `${base}_${n}`;
    this.used.add(name);
    return name;
  }

  /** Marks a name as taken (graph inputs). */
  reserve(name: string): void {
    this.used.add(name);
  }

  /** Adds a node with `count` outputs named after `base`; returns the output names. */
  add(op: string, base: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, count = 1): string[] {
    const outputs = Array.from({ length: count }, (_, index) => this.unique(count === 1 ? base : `${base}:${index}`));
    this.nodes.push({ op, name: this.unique(`${base}#${op}`), inputs: [...inputs], outputs, attrs });
    return outputs;
  }

  /** Adds a node with one output and returns it. */
  op(op: string, base: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.add(op, base, inputs, attrs)[0];
  }

  /** A float32 constant (a Float32Array is kept, not copied: a model's weights are not copied twice). */
  floats(base: string, values: ArrayLike<number>, dims: readonly number[]): string {
    const name = this.unique(base);
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.constants.set(name, { name, dims: [...dims], data });
    return name;
  }

  /** An int64 constant (shapes, pads, axes). */
  int64s(base: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.unique(base);
    this.constants.set(name, { name, dims: [...dims], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }

  /** A float32 scalar, shared by every node that uses the same value. */
  scalar(value: number): string {
    const key = `scalar_${Math.fround(value)}`;
    if (this.constants.has(key)) return key;
    this.used.add(key);
    this.constants.set(key, { name: key, dims: [], data: Float32Array.of(value) });
    return key;
  }

  /** The value in channels-first layout (a Transpose the first time a 4-D Keras value is asked for). */
  toNchw(value: Value): Value {
    if (value.layout === 'nchw' || value.shape.length !== 4) return value;
    return this.convert(value, 'nchw', TO_NCHW);
  }

  /** The value in Keras layout. */
  toKeras(value: Value): Value {
    if (value.layout === 'keras') return value;
    return this.convert(value, 'keras', TO_NHWC);
  }

  private convert(value: Value, layout: Layout, perm: readonly number[]): Value {
    const key = `${value.name}\u0000${layout}`;
    const known = this.converted.get(key);
    if (known) return known;
    const name = this.op('Transpose', `${value.name}_${layout}`, [value.name], { perm: ints(perm) });
    const out: Value = { name, shape: value.shape, layout };
    this.converted.set(key, out);
    this.converted.set(`${name}\u0000${value.layout}`, value);
    return out;
  }
}
