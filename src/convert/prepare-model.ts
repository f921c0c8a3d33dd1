// From a Keras 2 style model config (Keras 3 configs already translated) to what TF.js builds: every layer is
// looked up in the coverage table (layer-classes.ts); identities are dropped and rewired, rewrites spliced in,
// and every layer that cannot be converted is collected into one error (unsupported.ts).
import { findLayerClass } from './layer-classes.js';
import {
  editFunctional,
  editSequential,
  inboundNodes,
  isChain,
  isModelEntry,
  isObject,
  layerName,
  modelLayers,
  normaliseModel,
  sequentialToFunctional,
  asRefList,
  type Edit,
  type Json,
} from './keras-graph.js';
import { probeLayer } from './probe.js';
import { applyActivation } from './rewrite-activation.js';
import {
  checkOptions,
  rewriteCenterCrop,
  rewriteNormalization,
  rewriteResizing,
  rewriteSubtract,
} from './rewrite-layers.js';
import { rewriteOp, rewriteSlice } from './rewrite-ops.js';
import { refuse, type LayerContext, type Outcome, type Problem, type TensorValue } from './rewrite-types.js';
import { CUSTOM_ADVICE, LAMBDA_ADVICE, subclassedProblem } from './unsupported.js';

/** What the readers give the preparation. */
export interface PrepareInput {
  /** Keras 2 style model entry (`{class_name, config}`), Keras 3 configs translated. */
  readonly config: Json;
  /** Keras major that wrote the file: 2 or 3. */
  readonly major: number;
  /** Stored weights of an original layer, by its path of names from the root (for rewrites that move them). */
  readonly stored: (path: readonly string[]) => TensorValue[];
  /** Input shapes of probed layers (second pass), by "outer/inner" path. */
  readonly shapes?: ReadonlyMap<string, readonly (number | null)[]>;
}

/** The result of one pass. */
export interface Prepared {
  readonly modelConfig: Json;
  /** One line per dropped or rewritten layer (the convert report's notes). */
  readonly notes: readonly string[];
  /** Weights rewrites computed, by "outer/inner" layer path; other layers take their stored weights. */
  readonly weights: ReadonlyMap<string, TensorValue[]>;
  /** Layers that need their input shape: build `modelConfig` (placeholders stand there), run again with `shapes`. */
  readonly probes: ReadonlySet<string>;
  readonly problems: readonly Problem[];
}

const ADVICE = 'replace it with layers from the table in docs/convert.md and save the model again';
const adviceFor = (className: string) => (className === 'Lambda' ? LAMBDA_ADVICE : ADVICE);
const WRAPPERS = new Set(['Bidirectional', 'TimeDistributed', 'RNN', 'StackedRNNCells']);

/** One pass over the model. Pure: build-model.ts runs it, builds the result when it has probes, and runs it again. */
export function prepareModel(input: PrepareInput): Prepared {
  const notes: string[] = [];
  const weights = new Map<string, TensorValue[]>();
  const probes = new Set<string>();
  const problems: Problem[] = [];
  const root = input.config;
  const rootClass = String(root.class_name);
  if (!isModelEntry(root)) {
    problems.push(subclassedProblem(rootClass, layerName(root)));
    return { modelConfig: root, notes, weights, probes, problems };
  }

  const decide = (layer: Json, path: readonly string[], nodes: LayerContext['nodes']): Outcome => {
    const name = layerName(layer);
    const className = String(layer.class_name);
    const here = [...path, name];
    if (isModelEntry(layer)) {
      const inner = visitModel(layer, here);
      if (inner) return { kind: 'keep', entry: inner };
      const note = `${name}: nested ${className} dropped (every layer in it is an identity at inference)`;
      return { kind: 'drop', note };
    }
    const ctx: LayerContext = {
      major: input.major,
      path: here,
      nodes,
      inputShape: input.shapes?.get(here.join('/')),
      stored: () => input.stored(here),
    };
    const entry = findLayerClass(className, input.major);
    if (entry?.status === 'dropped') return { kind: 'drop', note: `${name}: ${className} dropped (${entry.how})` };
    switch (className) {
      case 'Subtract':
        return rewriteSubtract(layer, ctx);
      case 'Normalization':
        return rewriteNormalization(layer, ctx);
      case 'CenterCrop':
        return rewriteCenterCrop(layer, ctx);
      case 'Resizing':
        return rewriteResizing(layer, ctx);
      case 'SlicingOpLambda':
        return rewriteSlice(layer, ctx);
      case 'TFOpLambda':
        return rewriteOp(layer, ctx);
      default:
    }
    if (className.startsWith('ops.')) return rewriteOp(layer, ctx);
    if (entry?.status === 'custom' && className === 'RandomCrop') return rewriteResizing(layer, ctx);
    if (entry?.status === 'as-is') {
      return checkOptions(layer) ?? checkInner(layer, input.major) ?? applyActivation(layer, ctx);
    }
    if (entry?.status === 'refused') return refuse(className, name, entry.how, adviceFor(className));
    return refuse(className, name, 'is a custom class (not a Keras layer)', CUSTOM_ADVICE);
  };

  /** Returns the edited model entry, or undefined when nothing but identities is left in it. */
  const visitModel = (model: Json, path: readonly string[]): Json | undefined => {
    const entry = normaliseModel(model);
    const layers = modelLayers(entry);
    const isSequential = entry.class_name === 'Sequential';
    const outcomes = layers.map((layer) => decide(layer, path, isSequential ? [] : inboundNodes(layer)));
    if (isSequential && outcomes.some((outcome) => outcome.kind === 'replace' && !isChain(outcome.layers))) {
      const functional = sequentialToFunctional(entry);
      if (functional) return visitModel(functional, path);
      problems.push({
        group: 'Sequential',
        name: layerName(entry),
        reason: 'needs rebuilding as a Functional model but has no input shape',
        advice: 'give its first layer an input shape and save the model again',
      });
      return entry;
    }
    const edits = outcomes.map((outcome, index): Edit => {
      const layer = layers[index];
      const name = layerName(layer);
      const key = [...path, name].join('/');
      switch (outcome.kind) {
        case 'keep':
          if (outcome.note) notes.push(outcome.note);
          return { kind: 'keep', entry: outcome.entry ?? layer };
        case 'drop':
          notes.push(outcome.note);
          return { kind: 'drop' };
        case 'replace':
          notes.push(outcome.note);
          for (const [layerId, values] of Object.entries(outcome.weights ?? {})) {
            weights.set([...path, layerId].join('/'), values);
          }
          return { kind: 'replace', layers: outcome.layers };
        case 'probe':
          probes.add(key);
          return { kind: 'replace', layers: [{ ...probeLayer(name, outcome.outputHw), inputs: [{ in: 0 }] }] };
        case 'refuse':
          problems.push(...outcome.problems);
          return { kind: 'keep', entry: layer };
      }
    });
    if (isSequential) {
      const kept = editSequential(entry, edits);
      if (kept.every((layer) => layer.class_name === 'InputLayer')) return undefined;
      return { ...entry, config: { ...(entry.config as Json), layers: kept } };
    }
    const config = editFunctional(entry.config as Json, edits);
    const inputs = new Set(asRefList(config.input_layers).map((ref) => ref[0]));
    if (asRefList(config.output_layers).every((ref) => inputs.has(ref[0]))) return undefined;
    return { ...entry, config };
  };

  const modelConfig = visitModel(root, []);
  if (!modelConfig && problems.length === 0) {
    problems.push({
      group: rootClass,
      name: layerName(root),
      reason: 'has no layer left once identities are dropped',
      advice: 'this model computes nothing at inference',
    });
  }
  return { modelConfig: modelConfig ?? root, notes, weights, probes, problems };
}

/** The layers and cells a wrapper or RNN holds in its config. */
function innerEntries(config: Json): Json[] {
  const out: Json[] = [];
  for (const key of ['layer', 'backward_layer', 'cell', 'cells']) {
    const value = config[key];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isObject(item) && typeof item.class_name === 'string') out.push(item);
    }
  }
  return out;
}

/** Wrapped layers and cells must be as-is classes with as-is activations (nothing can be split out of a wrapper). */
function checkInner(layer: Json, major: number): Outcome | undefined {
  if (!WRAPPERS.has(String(layer.class_name)) || !isObject(layer.config)) return undefined;
  const name = layerName(layer);
  const wrapper = String(layer.class_name);
  const innerName = (inner: Json) => `${name}/${layerName(inner) || String(inner.class_name)}`;
  for (const inner of innerEntries(layer.config)) {
    const className = String(inner.class_name);
    const entry = findLayerClass(className, major);
    if (entry?.status !== 'as-is') {
      const reason =
        entry?.status === 'refused'
          ? entry.how
          : entry
            ? `a ${className} inside a ${wrapper} cannot be ${entry.status}`
            : 'is a custom class (not a Keras layer)';
      return refuse(className, innerName(inner), reason, adviceFor(className));
    }
    const ctx: LayerContext = { major, path: [name], nodes: [], inputShape: undefined, stored: () => [] };
    const outcome = checkOptions(inner) ?? checkInner(inner, major) ?? applyActivation(inner, ctx);
    if (outcome.kind === 'refuse') {
      const problems = outcome.problems.map((problem) => ({ ...problem, name: `${name}/${problem.name}` }));
      return { kind: 'refuse', problems };
    }
    if (outcome.kind !== 'keep' || outcome.note) {
      return refuse(className, innerName(inner), `an activation inside a ${wrapper} needs a rewrite`, ADVICE);
    }
  }
  return undefined;
}
