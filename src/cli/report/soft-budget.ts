/** The soft budget (`warnAtPercent`, docs/budget.md): a byte check above it warns, and budget still exits 0. */
import { checkStatus, headroomLine } from '../../report/checks.js';
import type { Budget } from '../../types.js';

/** One warning per byte check above the soft budget: "95.2 MiB unzipped of 100 MiB (95.2%), ... headroom: ...". */
export function softBudgetWarnings(budget: Budget, warnAtPercent: number): string[] {
  return budget.checks
    .filter((check) => checkStatus(check, warnAtPercent) === 'warn')
    .map((check) => `${headroomLine(check)}: above the soft budget (warnAtPercent ${warnAtPercent}%)`);
}

/** The budget with the soft-budget warnings first among its warnings, so every format reports them. */
export function withSoftBudget(budget: Budget, warnAtPercent: number): Budget {
  const soft = softBudgetWarnings(budget, warnAtPercent);
  return soft.length === 0 ? budget : { ...budget, warnings: [...soft, ...budget.warnings] };
}
