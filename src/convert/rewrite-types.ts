import type { Json, NewLayer, Ref } from './keras-graph.js';

/** A weight value computed by a rewrite (Normalization's statistics as BatchNormalization, a permutation kernel). */
export interface TensorValue {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** What a rule sees of one layer. */
export interface LayerContext {
  /** Keras major that wrote the file (2 or 3). */
  readonly major: number;
  /** Layer names from the root model down to this layer. */
  readonly path: readonly string[];
  /** Inbound nodes (Functional layers; empty in a Sequential). */
  readonly nodes: readonly (readonly Ref[])[];
  /** The layer's input shape, batch first, once the shape probe has run (undefined before). */
  readonly inputShape: readonly (number | null)[] | undefined;
  /** The stored weights of this layer, read as float32 (for rewrites that move them into other layers). */
  readonly stored: () => TensorValue[];
}

/** One layer that cannot be converted: grouped by `group` (a class, an op, an activation) in the error. */
export interface Problem {
  readonly group: string;
  readonly name: string;
  readonly reason: string;
  readonly advice: string;
}

/** What a rule decides for one layer. */
export type Outcome =
  | { readonly kind: 'keep'; readonly entry?: Json; readonly note?: string }
  | { readonly kind: 'drop'; readonly note: string }
  | {
      readonly kind: 'replace';
      readonly layers: readonly NewLayer[];
      readonly note: string;
      /** Weights of the new layers, by layer name (the others keep the stored weights of the same name). */
      readonly weights?: Readonly<Record<string, TensorValue[]>>;
    }
  /** Needs the input shape: a placeholder (output height/width `outputHw`, or its input's) stands in for now. */
  | { readonly kind: 'probe'; readonly outputHw?: readonly [number, number] }
  | { readonly kind: 'refuse'; readonly problems: readonly Problem[] };

export const refuse = (group: string, name: string, reason: string, advice: string): Outcome => ({
  kind: 'refuse',
  problems: [{ group, name, reason, advice }],
});

/** A Rescaling layer (`x * scale + offset`; TF.js broadcasts list values along the last axis). */
export const rescaling = (name: string, scale: number | number[], offset: number | number[]): Json => ({
  name,
  trainable: false,
  dtype: 'float32',
  scale,
  offset,
});
