// The TF.js layer classes the ONNX export covers, as data: the exporter looks classes up here, docs/convert.md
// ("ONNX output") lists the same, and test/cases/onnx-layers.json has a row per class. Keras files reach it as the
// TF.js model `convert` builds (Subtract, Normalization, TFOpLambda ... are already rewritten into these classes).
import {
  checkSpatial,
  checkUpSampling,
  emitConv2d,
  emitCropping2d,
  emitDepthwiseConv2d,
  emitPooling2d,
  emitSeparableConv2d,
  emitUpSampling2d,
  emitZeroPadding2d,
} from './emit-conv.js';
import {
  checkActivation,
  checkAxis,
  checkChannelsLast,
  checkMerge,
  emitActivationLayer,
  emitBatchNormalization,
  emitConcatenate,
  emitDense,
  emitELU,
  emitFlatten,
  emitGlobalPooling,
  emitIdentity,
  emitLeakyReLU,
  emitMerge,
  emitPermute,
  emitPReLU,
  emitReLU,
  emitRescaling,
  emitReshape,
  emitSoftmax,
  emitThresholdedReLU,
} from './emit-core.js';
import { checkResizing, emitResizing } from './emit-resize.js';
import type { Check, Emit, OnnxLayerClass } from './emit-types.js';

const row = (className: string, how: string, emit: Emit, check?: Check): OnnxLayerClass => ({
  className,
  how,
  emit,
  check,
});
const both =
  (...checks: Check[]): Check =>
  (layer) =>
    checks.map((check) => check(layer)).find((reason) => reason !== undefined);

const conv = both(checkSpatial, checkActivation);
const IDENTITY = 'dropped (an identity at inference)';

/** Every class the export covers. */
export const ONNX_LAYER_CLASSES: readonly OnnxLayerClass[] = [
  row('Conv2D', 'Conv (explicit pads for same); a BatchNormalization after it is folded in', emitConv2d, conv),
  row('DepthwiseConv2D', 'Conv with group = channels; BatchNormalization folded in', emitDepthwiseConv2d, conv),
  row('SeparableConv2D', 'depthwise Conv, then a 1x1 Conv with the bias', emitSeparableConv2d, conv),
  row('Dense', 'Gemm (MatMul + Add on inputs of rank > 2)', emitDense, checkActivation),
  row('BatchNormalization', 'folded into the Conv before it, else Mul + Add', emitBatchNormalization, checkAxis),
  row('Activation', 'the activation nodes (table below)', emitActivationLayer, checkActivation),
  row('ReLU', 'Relu; Clip with max_value', emitReLU),
  row('LeakyReLU', 'LeakyRelu', emitLeakyReLU),
  row('ELU', 'Elu', emitELU),
  row('ThresholdedReLU', 'ThresholdedRelu', emitThresholdedReLU),
  row('PReLU', 'PRelu', emitPReLU),
  row('Softmax', 'Softmax on the same axis', emitSoftmax, checkAxis),
  row('MaxPooling2D', "MaxPool ('same' as explicit pads)", emitPooling2d('MaxPool'), checkSpatial),
  row(
    'AveragePooling2D',
    "AveragePool (count_include_pad 0: 'same' averages the pixels inside)",
    emitPooling2d('AveragePool'),
    checkSpatial,
  ),
  row('GlobalAveragePooling2D', 'ReduceMean over height and width', emitGlobalPooling('ReduceMean'), checkChannelsLast),
  row('GlobalMaxPooling2D', 'ReduceMax over height and width', emitGlobalPooling('ReduceMax'), checkChannelsLast),
  row('GlobalAveragePooling1D', 'ReduceMean over the steps', emitGlobalPooling('ReduceMean'), checkChannelsLast),
  row('GlobalMaxPooling1D', 'ReduceMax over the steps', emitGlobalPooling('ReduceMax'), checkChannelsLast),
  row('Add', 'Add', emitMerge('Add'), checkMerge),
  row('Multiply', 'Mul', emitMerge('Mul'), checkMerge),
  row('Maximum', 'Max', emitMerge('Max'), checkMerge),
  row('Minimum', 'Min', emitMerge('Min'), checkMerge),
  row('Average', 'Mean', emitMerge('Mean'), checkMerge),
  row('Concatenate', 'Concat on the same axis', emitConcatenate, checkMerge),
  row('ZeroPadding2D', 'folded into the next Conv\u2019s pads, else Pad', emitZeroPadding2d, checkChannelsLast),
  row('Cropping2D', 'Slice', emitCropping2d, checkChannelsLast),
  row('UpSampling2D', 'Resize (nearest, asymmetric, floor): each pixel repeated', emitUpSampling2d, checkUpSampling),
  row(
    'LambdaMlResizing',
    'Resize with half-pixel centres (after a Slice for crop_to_aspect_ratio)',
    emitResizing,
    checkResizing,
  ),
  row('Flatten', 'Transpose back to NHWC, then Flatten (so Dense rows match Keras)', emitFlatten, checkChannelsLast),
  row('Reshape', 'Reshape in NHWC order', emitReshape),
  row('Permute', 'Transpose', emitPermute),
  row('Rescaling', 'Mul and Add (per channel when scale/offset are lists)', emitRescaling),
  ...['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout'].map((className) =>
    row(className, IDENTITY, emitIdentity),
  ),
];

const BY_CLASS = new Map(ONNX_LAYER_CLASSES.map((entry) => [entry.className, entry]));

/** The table row of a TF.js class name, if the export covers it. */
export const findOnnxLayer = (className: string): OnnxLayerClass | undefined => BY_CLASS.get(className);
