/** Formatting helpers for byte counts; only reporters format, stages keep integers. */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** 435159040 -> "435.2 MB" (SI, as AWS's console and `du -h --si` print). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${sign}${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** 1234567 -> "1,234,567". */
export const formatInt = (n: number) => n.toLocaleString('en-US');

/** Sum of a list of numbers or of a field. */
export function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += pick(item);
  return total;
}

/** 0.1234 -> "12%". */
export const formatPercent = (ratio: number) => `${Math.round(ratio * 100)}%`;
