/** A `budget --json` document as reports read it: the Budget plus the fields reports add (docs/report.md). */
import { inputError } from '../lib/errors.js';
import type { Budget } from '../types.js';
import type { BinaryFile } from './binaries.js';
import type { BudgetDelta } from './delta-types.js';
import type { LargestFile } from './largest-files.js';

/** `budget --json`: Budget, plus `files` (--files N), `binaries`, `warnAtPercent` and `delta` (--base) when written. */
export type BudgetDocument = Budget & {
  readonly schemaVersion?: number;
  readonly ok?: boolean;
  readonly files?: readonly LargestFile[];
  readonly binaries?: readonly BinaryFile[];
  readonly warnAtPercent?: number;
  readonly delta?: BudgetDelta;
};

/** Parses an earlier `budget --json` (e.g. main's, for `--base FILE`); `label` names it in errors. */
export function parseBudgetDocument(text: string, label: string): BudgetDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const hint = 'pass the output of `lambda-ml budget --json`';
    throw inputError(`${label} is not JSON (${(error as Error).message})`, hint, error);
  }
  const record = doc as Record<string, unknown> | null;
  if (record && typeof record === 'object' && record.ok === false) {
    const message = (record.error as { message?: string } | undefined)?.message ?? 'no message';
    throw inputError(
      `${label} is the output of a failed budget run: ${message}`,
      'run `lambda-ml budget --json` on a project that budgets',
    );
  }
  const components = record?.components as Record<string, unknown> | undefined;
  const deps = components?.deps as Record<string, unknown> | undefined;
  const isBudget =
    Boolean(record) &&
    typeof record!.fits === 'boolean' &&
    Array.isArray(record!.checks) &&
    Array.isArray(deps?.packages) &&
    Array.isArray(components?.layers) &&
    Array.isArray(components?.models);
  if (!isBudget) {
    throw inputError(
      `${label} is not a \`budget --json\` document (no fits, checks or components)`,
      'pass the output of `lambda-ml budget --json`, as the base branch wrote it',
    );
  }
  return doc as BudgetDocument;
}
