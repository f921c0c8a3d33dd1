// Some rewrites need a layer's input shape (how many channels to permute, whether a Resizing is a no-op).
// The model is built once with a placeholder in each such place; TF.js infers the shapes symbolically.
import * as tf from '@tensorflow/tfjs';
import type { Json } from './keras-graph.js';

export const PROBE_CLASS = 'LambdaMlProbe';

interface ProbeArgs {
  name?: string;
  outputHw?: [number, number] | null;
}

/** A placeholder: its output shape is its input's, or with height and width replaced (images, channels last). */
class LambdaMlProbe extends tf.layers.Layer {
  static className = PROBE_CLASS;
  private readonly outputHw: [number, number] | null;
  constructor(args: ProbeArgs) {
    super(args);
    this.outputHw = args.outputHw ?? null;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = [...(inputShape as tf.Shape)];
    if (this.outputHw && shape.length === 4) [shape[1], shape[2]] = this.outputHw;
    return shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return inputs;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outputHw: this.outputHw };
  }
}

let registered = false;

/** The config of a placeholder standing in for layer `name`. */
export function probeLayer(
  name: string,
  outputHw: readonly [number, number] | undefined,
): { class_name: string; config: Json } {
  if (!registered) {
    tf.serialization.registerClass(LambdaMlProbe);
    registered = true;
  }
  return { class_name: PROBE_CLASS, config: { name, output_hw: outputHw ?? null, trainable: false, dtype: 'float32' } };
}

/** Input shapes (batch first) of the layers at `paths` ("outer/inner" names) of a built model. */
export function probedShapes(model: tf.LayersModel, paths: ReadonlySet<string>): Map<string, (number | null)[]> {
  const shapes = new Map<string, (number | null)[]>();
  const visit = (container: tf.LayersModel, prefix: string[]) => {
    for (const layer of container.layers) {
      const path = [...prefix, layer.name];
      if (layer instanceof tf.LayersModel) {
        visit(layer, path);
        continue;
      }
      const key = path.join('/');
      if (!paths.has(key)) continue;
      // a node's inputShapes is a list of shapes, one per input tensor
      const shapes0 = layer.inboundNodes[0]?.inputShapes as (number | null)[][] | undefined;
      if (Array.isArray(shapes0) && shapes0.length === 1 && Array.isArray(shapes0[0])) shapes.set(key, shapes0[0]);
    }
  };
  visit(model, []);
  return shapes;
}
