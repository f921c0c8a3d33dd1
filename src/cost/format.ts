/** Plain-text cost tables for the CLI's human output (no colour; the reporters add it). */
import type { CostEstimate } from './model.js';

/** "$1,234.57", "$0.0123" (small amounts keep 4 significant decimals). */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0.00';
  if (Math.abs(usd) < 0.01) return `$${usd.toPrecision(2)}`;
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** One line per cost item, x86_64 and arm64 side by side; `(est.)` marks figures from an estimated time. */
export function costTable(estimates: readonly (CostEstimate & { timeEstimated?: boolean })[]): string[] {
  const items = estimates[0]?.lines.map((l) => l.item.replace(/ \(\d+ MB × \d+ ms\)$/, '')) ?? [];
  const width = Math.max(...items.map((i) => i.length), 5);
  const column = (text: string) => text.padStart(16);
  const row = (label: string, cells: string[]) => `${label.padEnd(width)}  ${cells.map(column).join('')}`;
  const head = row(
    '',
    estimates.map((e) => `${e.architecture}${e.timeEstimated ? ' (est.)' : ''}`),
  );
  const rows = items.map((item, i) =>
    row(
      item,
      estimates.map((e) => formatUsd(e.lines[i].usd)),
    ),
  );
  const total = row(
    'total',
    estimates.map((e) => formatUsd(e.totalUsd)),
  );
  return [head, ...rows, total];
}
