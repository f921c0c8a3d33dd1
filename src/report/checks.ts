/** Each limit's state with the soft budget (`warnAtPercent`, docs/report.md); the headroom line reports lead with. */
import { formatBytes, formatInt } from '../lib/bytes.js';
import type { Check } from '../types.js';

/** The soft budget when the config sets none: warn above 90% of a byte limit. */
export const DEFAULT_WARN_AT_PERCENT = 90;

export type CheckStatus = 'ok' | 'warn' | 'over' | 'via-s3';

const BYTE_LIMITS = new Set(['unzipped', 'zipDirect', 'tmp', 'memory']);

/** ok, warn (above the soft budget, still exit 0), over (exit 1), via-s3 (a zip over 50 MiB deploys through S3). */
export function checkStatus(check: Check, warnAtPercent = DEFAULT_WARN_AT_PERCENT): CheckStatus {
  if (!check.ok) return check.blocking ? 'over' : 'via-s3';
  const isByteLimit = BYTE_LIMITS.has(check.limit);
  return isByteLimit && check.max > 0 && (check.used / check.max) * 100 > warnAtPercent ? 'warn' : 'ok';
}

/** Human labels of the limits. */
export const LIMIT_LABELS: Readonly<Record<Check['limit'], string>> = {
  unzipped: 'unzipped',
  zipDirect: 'zip direct',
  tmp: '/tmp',
  memory: 'memory',
  layers: 'layers',
};

/** 256_600_000 -> "244.7 MiB": one decimal, for the lead line where "245 MiB" would hide the headroom. */
export function formatMiB1(bytes: number): string {
  if (Math.abs(bytes) < 1_048_576) return formatBytes(bytes);
  const mib = bytes / 1_048_576;
  return `${mib.toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`;
}

/** 0.979 -> "97.9%". */
export const formatPercent1 = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

/** A check's amounts: "86.0 MiB of 250 MiB" (layers: "1 of 5"). */
export function checkAmounts(check: Check): string {
  const fmt = check.limit === 'layers' ? formatInt : formatMiB1;
  return `${fmt(check.used)} of ${fmt(check.max)}`;
}

/** "244.7 MiB unzipped of 250 MiB (97.9%), 5.3 MiB headroom" or "... (103.2%), over by 8.1 MiB". */
export function headroomLine(check: Check): string {
  const label = check.limit === 'layers' ? 'layers' : LIMIT_LABELS[check.limit];
  const ratio = check.max > 0 ? check.used / check.max : 0;
  const left = check.max - check.used;
  const fmt = (n: number) => (check.limit === 'layers' ? formatInt(n) : formatMiB1(n));
  const tail = left >= 0 ? `${fmt(left)} headroom` : `over by ${fmt(-left)}`;
  return `${fmt(check.used)} ${label} of ${fmt(check.max)} (${formatPercent1(ratio)}), ${tail}`;
}

/** The check a report leads with: the unzipped limit (what "does it fit" means for Lambda), else the first. */
export function leadCheck(checks: readonly Check[]): Check | null {
  return checks.find((c) => c.limit === 'unzipped') ?? checks[0] ?? null;
}
