/**
 * Formatting of sizes for humans; only reporters and messages format, stages keep integer bytes.
 * One convention everywhere (docs/budget.md, "Units"): sizes in binary units (KiB, MiB, GiB, as Lambda counts
 * them); memory and /tmp as configured, in Lambda's "MB", which are MiB; byte limits with thousands separators
 * and their MiB; never a bare run of digits.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 32_925_696 -> "31.4 MiB", 262_144_000 -> "250 MiB", 900 -> "900 B" (one decimal below 100, none above). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KiB would print as "1024.0 KiB": carry into the next unit instead
  if (unit > 0 && unit < UNITS.length - 1 && Number(value.toFixed(value >= 100 ? 0 : 1)) >= 1024) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${sign}${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Exact MiB, no trailing zeros: 262_144_000 -> "250 MiB", 52_428_800 -> "50 MiB", 1_000_000 -> "0.95 MiB". */
export function formatMiB(bytes: number): string {
  const mib = bytes / 1_048_576;
  return `${mib.toLocaleString('en-US', { maximumFractionDigits: Math.abs(mib) >= 100 ? 1 : 2 })} MiB`;
}

/** A byte limit: 262_144_000 -> "262,144,000 bytes (250 MiB)"; under 1 MiB just "1,000 bytes". */
export const formatLimit = (bytes: number) =>
  `${formatInt(bytes)} bytes${bytes >= 1_048_576 ? ` (${formatMiB(bytes)})` : ''}`;

/** An exact byte count: 1234567 -> "1,234,567 bytes". */
export const formatExact = (bytes: number) => `${formatInt(bytes)} ${bytes === 1 ? 'byte' : 'bytes'}`;

/** Memory or /tmp as Lambda configures it (MB there means MiB): 2048 -> "2048 MB". */
export const formatMb = (mb: number) => `${mb} MB`;

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
