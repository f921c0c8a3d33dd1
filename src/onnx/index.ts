export { convertToOnnx, type OnnxConvertReport } from './convert-onnx.js';
export { exportModel, exportProblems, IR_VERSION, OPSET, type ExportedModel } from './export-model.js';
export { loadForExport, type LoadedModel } from './load-model.js';
export { decodeModel, encodeModel } from './onnx-proto.js';
export { ONNX_LAYER_CLASSES, findOnnxLayer } from './layer-table.js';
export { ONNX_ACTIVATIONS } from './activations.js';
export { EXPORT_TOLERANCE, loadOrt } from './check-export.js';
