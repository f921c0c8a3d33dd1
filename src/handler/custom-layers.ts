// Custom TF.js layers that `convert` writes where no built-in layer computes what Keras does (docs/convert.md).
// The handler registers them before it loads a model; the converter registers them to build what it writes.
// Type-only import: the handler gets tfjs at run time (index.ts), so the class is made per tfjs instance.
import type * as tfjs from '@tensorflow/tfjs';

type Tf = typeof tfjs;

/** Class names of the custom layers, as they appear in a converted model.json. */
export const CUSTOM_LAYER_CLASSES = ['LambdaMlResizing'] as const;

interface ResizingArgs {
  name?: string;
  height: number;
  width: number;
  interpolation?: 'bilinear' | 'nearest';
  cropToAspectRatio?: boolean;
}

const registered = new WeakSet<object>();

/**
 * Registers the custom layers with this tfjs instance (once). LambdaMlResizing is Keras's Resizing: TF.js's own
 * Resizing samples with align_corners (and its output shape drops the batch axis); Keras resizes with half-pixel
 * centres, after cropping to the target aspect ratio when `crop_to_aspect_ratio` is set (smart_resize).
 */
export function registerCustomLayers(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  class LambdaMlResizing extends tf.layers.Layer {
    static className = 'LambdaMlResizing';
    private readonly height: number;
    private readonly width: number;
    private readonly interpolation: 'bilinear' | 'nearest';
    private readonly cropToAspectRatio: boolean;
    constructor(args: ResizingArgs) {
      super(args);
      this.height = args.height;
      this.width = args.width;
      this.interpolation = args.interpolation ?? 'bilinear';
      this.cropToAspectRatio = Boolean(args.cropToAspectRatio);
      if (this.interpolation !== 'bilinear' && this.interpolation !== 'nearest') {
        throw new Error(`LambdaMlResizing: interpolation ${String(this.interpolation)} is not supported`);
      }
    }
    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape | tfjs.Shape[] {
      const shape = [...(inputShape as tfjs.Shape)];
      shape[shape.length - 3] = this.height;
      shape[shape.length - 2] = this.width;
      return shape;
    }
    override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
      return tf.tidy(() => {
        const input = (Array.isArray(inputs) ? inputs[0] : inputs) as tfjs.Tensor;
        let images = (input.rank === 3 ? input.expandDims(0) : input) as tfjs.Tensor4D;
        if (this.cropToAspectRatio) images = cropToAspectRatio(tf, images, this.height, this.width);
        const size: [number, number] = [this.height, this.width];
        const out =
          this.interpolation === 'nearest'
            ? tf.image.resizeNearestNeighbor(images, size, false, true)
            : tf.image.resizeBilinear(images, size, false, true);
        return input.rank === 3 ? out.squeeze([0]) : out;
      });
    }
    override getConfig(): tfjs.serialization.ConfigDict {
      const { height, width, interpolation, cropToAspectRatio } = this;
      return { ...super.getConfig(), height, width, interpolation, cropToAspectRatio };
    }
  }
  tf.serialization.registerClass(LambdaMlResizing);
}

/** The centred crop Keras's smart_resize takes (its float32 arithmetic, then truncation to int). */
function cropToAspectRatio(tf: Tf, images: tfjs.Tensor4D, height: number, width: number): tfjs.Tensor4D {
  const [, inHeight, inWidth] = images.shape;
  const f = Math.fround;
  const cropHeight = Math.max(1, Math.min(inHeight, Math.trunc(f(f(inWidth * height) / width))));
  const cropWidth = Math.max(1, Math.min(inWidth, Math.trunc(f(f(inHeight * width) / height))));
  const top = Math.trunc(f(inHeight - cropHeight) / 2);
  const left = Math.trunc(f(inWidth - cropWidth) / 2);
  return tf.slice(images, [0, top, left, 0], [-1, cropHeight, cropWidth, -1]);
}
