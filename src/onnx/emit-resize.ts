// LambdaMlResizing (what `convert` makes of Keras's Resizing, src/handler/custom-layers.ts): smart_resize's centred
// crop as a Slice, then a Resize to the target size with half-pixel centres, as TF.js's resizeBilinear /
// resizeNearestNeighbor(halfPixelCenters) compute it.
import { int, str, type Attr, type Graph, type Value } from './graph.js';
import { output, type Check, type Emit } from './emit-types.js';

/** The crop smart_resize takes before resizing (Keras's float32 arithmetic, then truncation), as custom-layers.ts. */
function cropBox(inHeight: number, inWidth: number, height: number, width: number) {
  const f = Math.fround;
  const cropHeight = Math.max(1, Math.min(inHeight, Math.trunc(f(f(inWidth * height) / width))));
  const cropWidth = Math.max(1, Math.min(inWidth, Math.trunc(f(f(inHeight * width) / height))));
  const top = Math.trunc(f(inHeight - cropHeight) / 2);
  const left = Math.trunc(f(inWidth - cropWidth) / 2);
  return { top, left, cropHeight, cropWidth };
}

/** `sizes` of a Resize: the input's batch and channels (known only at run time) with the target height and width. */
function sizesOf(g: Graph, base: string, x: Value, height: number, width: number): string {
  const shape = g.op('Shape', `${base}_shape`, [x.name]);
  const nc = g.op('Slice', `${base}_nc`, [shape, g.int64s(`${base}/zero`, [0]), g.int64s(`${base}/two`, [2])]);
  return g.op('Concat', `${base}_sizes`, [nc, g.int64s(`${base}/hw`, [height, width])], { axis: int(0) });
}

export const emitResizing: Emit = (g, call, [input]) => {
  let x = g.toNchw(input);
  const height = Number(call.config.height);
  const width = Number(call.config.width);
  if (call.config.cropToAspectRatio === true) {
    const [inHeight, inWidth] = [Number(input.shape[1]), Number(input.shape[2])];
    const box = cropBox(inHeight, inWidth, height, width);
    const starts = g.int64s(`${call.name}/crop_starts`, [box.top, box.left]);
    const ends = g.int64s(`${call.name}/crop_ends`, [box.top + box.cropHeight, box.left + box.cropWidth]);
    const crop = g.op('Slice', `${call.name}_crop`, [x.name, starts, ends, g.int64s(`${call.name}/axes`, [2, 3])]);
    x = { name: crop, shape: [input.shape[0], box.cropHeight, box.cropWidth, input.shape[3]], layout: 'nchw' };
  }
  const nearest = call.config.interpolation === 'nearest';
  const attrs: Record<string, Attr> = nearest
    ? { mode: str('nearest'), coordinate_transformation_mode: str('tf_half_pixel_for_nn'), nearest_mode: str('floor') }
    : { mode: str('linear'), coordinate_transformation_mode: str('half_pixel') };
  const sizes = sizesOf(g, call.name, x, height, width);
  return output(call, g.op('Resize', call.name, [x.name, '', '', sizes], attrs), 'nchw');
};

/** The crop needs the input's height and width. */
export const checkResizing: Check = (layer) => {
  if (layer.config.cropToAspectRatio !== true) return undefined;
  const unknown = layer.inputShapes.some((shapes) => shapes[0]?.[1] === null || shapes[0]?.[2] === null);
  return unknown ? 'crops to the aspect ratio of an input whose size is not known' : undefined;
};
