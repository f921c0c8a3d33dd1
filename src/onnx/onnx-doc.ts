// The class table of docs/convert.md's "ONNX output" section, generated from layer-table.ts (a unit test checks the
// doc matches, as coverage-doc.ts does for the TF.js table).
import { ONNX_ACTIVATIONS } from './activations.js';
import { ONNX_LAYER_CLASSES } from './layer-table.js';

export const ONNX_TABLE_BEGIN = '<!-- onnx table: generated from src/onnx/layer-table.ts -->';
export const ONNX_TABLE_END = '<!-- end of onnx table -->';

/** The markdown between ONNX_TABLE_BEGIN and ONNX_TABLE_END. */
export function onnxTableMarkdown(): string {
  const activations = ONNX_ACTIVATIONS.filter((name) => !/[A-Z]/.test(name)); // TF.js's camelCase aliases left out
  return [
    ONNX_TABLE_BEGIN,
    `${ONNX_LAYER_CLASSES.length} TF.js layer classes:`,
    '',
    '| class | ONNX |',
    '|---|---|',
    ...ONNX_LAYER_CLASSES.map((entry) => `| \`${entry.className}\` | ${entry.how.replace(/\|/g, '\\|')} |`),
    '',
    `Activations (as \`activation=\` of a layer or an \`Activation\` layer): ` +
      `${activations.map((name) => `\`${name}\``).join(', ')}.`,
    ONNX_TABLE_END,
  ].join('\n');
}
