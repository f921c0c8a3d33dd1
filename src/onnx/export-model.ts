// A TF.js layers model (weights loaded) to an ONNX ModelProto. The model's graph is walked as TF.js runs it
// (Container.runInternalGraph: nodes by decreasing depth, nested models entered with their caller's tensors), each
// layer call emitted by its row of layer-table.ts. Inputs and outputs stay in Keras's NHWC layout.
import type * as tf from '@tensorflow/tfjs';
import { LambdaMlError } from '../lib/errors.js';
import { VERSION } from '../lib/version.js';
import type { Problem } from '../convert/rewrite-types.js';
import { unsupportedError } from '../convert/unsupported.js';
import type { LayerCall, LayerView, WeightValue } from './emit-types.js';
import { foldGraph, type FoldCounts } from './fold.js';
import { Graph, type Value } from './graph.js';
import { findOnnxLayer } from './layer-table.js';
import { toModelMessage } from './model-message.js';
import type { ModelMessage } from './onnx-proto.js';

type Shape = (number | null)[];
interface SymbolicLike {
  readonly id: number;
  readonly shape: Shape;
}
interface NodeLike {
  readonly outboundLayer: tf.layers.Layer;
  readonly inputTensors: readonly SymbolicLike[];
  readonly outputTensors: readonly SymbolicLike[];
}
interface ContainerLike {
  readonly name: string;
  readonly layers: readonly tf.layers.Layer[];
  readonly inputs: readonly SymbolicLike[];
  readonly outputs: readonly SymbolicLike[];
  readonly nodesByDepth: Readonly<Record<string, readonly NodeLike[]>>;
}

const NO_EXPORT = 'has no ONNX export (docs/convert.md, "ONNX output")';
const ADVICE = 'convert to TF.js instead (an OUT without .onnx) to run it on the wasm backend, or replace the layer';
const PROBLEM_ADVICE = 'TF.js output takes it (an OUT without .onnx)';

const isContainer = (layer: unknown): layer is ContainerLike =>
  typeof layer === 'object' && layer !== null && 'nodesByDepth' in layer && Array.isArray((layer as any).layers);

const inboundShapes = (layer: tf.layers.Layer): Shape[][] =>
  (layer.inboundNodes as unknown as NodeLike[]).map((node) => node.inputTensors.map((t) => t.shape));

/** Every layer the export cannot take, listed at once (the error of unsupported.ts). */
export function exportProblems(model: tf.LayersModel): Problem[] {
  const problems: Problem[] = [];
  const visit = (container: ContainerLike, prefix: readonly string[]) => {
    for (const layer of container.layers) {
      const path = [...prefix, layer.name];
      if (isContainer(layer)) {
        visit(layer, path);
        continue;
      }
      const className = layer.getClassName();
      if (className === 'InputLayer') continue;
      const entry = findOnnxLayer(className);
      const view: LayerView = {
        className,
        name: path.join('/'),
        config: layer.getConfig(),
        inputShapes: inboundShapes(layer),
      };
      const reason = entry ? entry.check?.(view) : NO_EXPORT;
      if (reason) problems.push({ group: className, name: view.name, reason, advice: PROBLEM_ADVICE });
    }
  };
  visit(model as unknown as ContainerLike, []);
  return problems;
}

/** A layer's weights by the last part of their names, read once (dequantised float32, as TF.js holds them). */
function weightsOf(layer: tf.layers.Layer): (key: string) => WeightValue | undefined {
  let byKey: Map<string, WeightValue> | undefined;
  return (key) => {
    byKey ??= new Map(
      layer.weights.map((weight) => [
        weight.originalName.split('/').pop()!.replace(/:\d+$/, ''),
        { shape: weight.shape as number[], values: weight.read().dataSync() as Float32Array },
      ]),
    );
    return byKey.get(key);
  };
}

/** A Sequential builds its inner graph (nodesByDepth) on first use; a freshly loaded one may not have yet. */
function ensureBuilt(container: ContainerLike): void {
  const lazy = container as ContainerLike & { build?: () => void };
  if (Object.keys(container.nodesByDepth ?? {}).length === 0 && typeof lazy.build === 'function') lazy.build();
}

function emitContainer(g: Graph, container: ContainerLike, prefix: readonly string[], inputs: readonly Value[]) {
  ensureBuilt(container);
  const values = new Map<number, Value>();
  container.inputs.forEach((tensor, index) => values.set(tensor.id, inputs[index]));
  const depths = Object.keys(container.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  for (const depth of depths) {
    for (const node of container.nodesByDepth[depth]) {
      const layer = node.outboundLayer;
      if (layer.getClassName() === 'InputLayer') continue;
      const path = [...prefix, layer.name];
      const ins = node.inputTensors.map((tensor) => {
        const value = values.get(tensor.id);
        if (!value) throw new Error(`onnx: layer ${path.join('/')} reads a tensor not computed yet`);
        return value;
      });
      let outs: Value[];
      if (isContainer(layer)) outs = emitContainer(g, layer, path, ins);
      else {
        const entry = findOnnxLayer(layer.getClassName())!;
        const call: LayerCall = {
          className: layer.getClassName(),
          name: path.join('/'),
          config: layer.getConfig(),
          weight: weightsOf(layer),
          outputShapes: node.outputTensors.map((tensor) => tensor.shape),
        };
        outs = entry.emit(g, call, ins);
      }
      node.outputTensors.forEach((tensor, index) => values.set(tensor.id, outs[index]));
    }
  }
  return container.outputs.map((tensor) => values.get(tensor.id)!);
}

/** What `exportModel` built. */
export interface ExportedModel {
  readonly message: ModelMessage;
  readonly inputs: readonly { name: string; shape: Shape }[];
  readonly outputs: readonly { name: string; shape: Shape }[];
  readonly folds: FoldCounts;
}

export const OPSET = 17;
/** ONNX IR version 8 is the one that goes with opset 17 (onnx/helper.py VERSION_TABLE, ONNX 1.12). */
export const IR_VERSION = 8;

/** Exports a TF.js layers model; throws one error listing every layer that has no export (`label` names the model). */
export function exportModel(model: tf.LayersModel, label: string): ExportedModel {
  const problems = exportProblems(model);
  if (problems.length > 0) {
    // convert's own error (counts by class, a detail line per class), worded for ONNX
    const error = unsupportedError(label, problems);
    const message = error.message.replace(/ cannot be converted: /, ' cannot be converted to ONNX: ');
    throw new LambdaMlError('input', message, ADVICE, { details: error.details });
  }
  const g = new Graph();
  const container = model as unknown as ContainerLike;
  ensureBuilt(container); // a loaded Sequential has no inputNames before it is built
  const inputs = container.inputs.map((tensor, index): Value => {
    const name = model.inputNames[index];
    g.reserve(name);
    return { name, shape: tensor.shape, layout: 'keras' };
  });
  const results = emitContainer(g, container, [], inputs).map((value) => g.toKeras(value));
  const done = new Set<string>();
  const outputs = results.map((value, index) => {
    const named = nameOutput(g, value, model.outputNames[index], inputs, done);
    done.add(named.name);
    return named;
  });
  const folds = foldGraph(g, new Set(outputs.map((value) => value.name)));
  const message = toModelMessage(g, {
    inputs,
    outputs,
    opset: OPSET,
    irVersion: IR_VERSION,
    producerVersion: VERSION,
    graphName: model.name,
  });
  const shapes = (values: readonly Value[]) => values.map((value) => ({ name: value.name, shape: [...value.shape] }));
  return { message, inputs: shapes(inputs), outputs: shapes(outputs), folds };
}

/** Renames tensor `from` to `to` everywhere in the graph. */
function renameTensor(g: Graph, from: string, to: string): void {
  for (const node of g.nodes) {
    node.inputs = node.inputs.map((name) => (name === from ? to : name));
    node.outputs = node.outputs.map((name) => (name === from ? to : name));
  }
}

/**
 * Gives an output the model's output name (a tensor that had the name is renamed first); an output that is a graph
 * input, or already another output, goes through an Identity.
 */
function nameOutput(g: Graph, value: Value, wanted: string, inputs: readonly Value[], done: Set<string>): Value {
  if (value.name === wanted) return value;
  const isProduced = g.nodes.some((node) => node.outputs.includes(value.name));
  if (!isProduced || done.has(value.name) || inputs.some((input) => input.name === wanted)) {
    return { ...value, name: g.op('Identity', wanted, [value.name]) };
  }
  if (g.nodes.some((node) => node.outputs.includes(wanted))) renameTensor(g, wanted, g.unique(`${wanted}_inner`));
  renameTensor(g, value.name, wanted);
  g.reserve(wanted);
  return { ...value, name: wanted };
}
