/** How a limit's max reads in the reports (docs/budget.md, "Units"). */
import { formatBytes, formatMb } from '../../lib/bytes.js';
import type { Check, Config } from '../../types.js';

/** Memory and /tmp as configured ("2048 MB": Lambda's MB are MiB), byte limits in MiB, layers as a count. */
export function formatMax(check: Check, config: Config): string {
  if (check.limit === 'layers') return String(check.max);
  const { memoryMb, ephemeralStorageMb } = config.function;
  if (check.limit === 'memory' && check.max === memoryMb * 1_048_576) return formatMb(memoryMb);
  if (check.limit === 'tmp' && check.max === ephemeralStorageMb * 1_048_576) return formatMb(ephemeralStorageMb);
  return formatBytes(check.max);
}
