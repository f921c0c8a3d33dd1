// The coverage table of docs/convert.md, generated from layer-classes.ts (a unit test checks the doc matches,
// so the table cannot drift from what the converter does).
import { ACTIVATIONS, LAYER_CLASSES, statusCounts, type LayerStatus } from './layer-classes.js';

export const TABLE_BEGIN = '<!-- coverage table: generated from src/convert/layer-classes.ts -->';
export const TABLE_END = '<!-- end of coverage table -->';

const ORDER: readonly LayerStatus[] = ['as-is', 'rewritten', 'custom', 'dropped', 'refused'];
const TITLES: Readonly<Record<LayerStatus, string>> = {
  'as-is': 'As is (TF.js has the layer)',
  rewritten: 'Rewritten into built-in TF.js layers',
  custom: 'Custom layer (registered by the handler)',
  dropped: 'Dropped (identities at inference)',
  refused: 'Refused',
};
const keras = (majors: string) => (majors === '2+3' ? '2, 3' : majors);
const cell = (text: string) => text.replace(/\|/g, '\\|');
const SEPARATOR = '|---|---|---|---|';

/** The markdown between TABLE_BEGIN and TABLE_END in docs/convert.md. */
export function coverageMarkdown(): string {
  const counts = statusCounts();
  const classes = new Set(LAYER_CLASSES.map((entry) => entry.className)).size;
  const lines = [
    TABLE_BEGIN,
    `${LAYER_CLASSES.length} entries for ${classes} layer classes (a class Keras 2 and Keras 3 compute differently ` +
      `has one per major): ${ORDER.map((status) => `${counts[status]} ${status}`).join(', ')}.`,
    '',
  ];
  for (const status of ORDER) {
    lines.push(`### ${TITLES[status]} (${counts[status]})`, '', '| class | Keras | module | how |', SEPARATOR);
    for (const entry of LAYER_CLASSES.filter((item) => item.status === status)) {
      lines.push(`| \`${entry.className}\` | ${keras(entry.keras)} | ${entry.module} | ${cell(entry.how)} |`);
    }
    lines.push('');
  }
  lines.push(`### Activations (${ACTIVATIONS.length})`, '', '| activation | Keras | status | how |', SEPARATOR);
  for (const entry of ACTIVATIONS) {
    lines.push(`| \`${entry.name}\` | ${keras(entry.keras)} | ${entry.status} | ${cell(entry.how)} |`);
  }
  lines.push(TABLE_END);
  return lines.join('\n');
}
