/** Runs the head's `lambda-ml budget` and reads what it printed: the budget JSON, or the error it reported. */
import { parseBudgetDocument, type BudgetDocument } from '../report/budget-document.js';
import { runCommand } from './exec.js';

export interface BudgetRunResult {
  readonly code: number;
  /** The budget (exit 0 or 1). */
  readonly doc: BudgetDocument | null;
  /** What went wrong (exit 2 and above): lambda-ml's `error:` and `hint:` lines. */
  readonly error: string | null;
}

/** Whether this lambda-ml has the report flags (`--base`, `--html`, `--files`); older ones get the delta from us. */
export async function hasReportFlags(cli: readonly string[], cwd: string): Promise<boolean> {
  const help = await runCommand([...cli, 'budget', '--help'], { cwd });
  return help.code === 0 && ['--base', '--html', '--files'].every((flag) => help.stdout.includes(flag));
}

/** `budget --json ...args`: the document when it ran (exit 0/1), else the error lines. */
export async function runBudgetJson(
  cli: readonly string[],
  cwd: string,
  args: readonly string[],
  log?: (s: string) => void,
): Promise<BudgetRunResult> {
  const ran = await runCommand([...cli, 'budget', '--json', ...args], { cwd, log });
  if (ran.code === 0 || ran.code === 1) {
    try {
      return { code: ran.code, doc: parseBudgetDocument(ran.stdout, 'the budget JSON'), error: null };
    } catch (error) {
      const error_ = `lambda-ml exited ${ran.code} without a budget on stdout: ${(error as Error).message}`;
      return { code: 4, doc: null, error: error_ };
    }
  }
  return { code: ran.code, doc: null, error: errorText(ran.stdout, ran.stderr) };
}

/** The error as lambda-ml reported it: `{ ok: false, error }` on stdout under --json, else its stderr lines. */
export function errorText(stdout: string, stderr: string): string {
  try {
    type Failed = { ok?: boolean; error?: { message?: string; hint?: string | null; details?: string[] } };
    const doc = JSON.parse(stdout) as Failed;
    if (doc.ok === false && doc.error?.message) {
      const details = (doc.error.details ?? []).map((d) => `  ${d}`);
      const hint = doc.error.hint ? [`hint: ${doc.error.hint}`] : [];
      return [`error: ${doc.error.message}`, ...details, ...hint].join('\n');
    }
  } catch {
    // not JSON: use stderr
  }
  const isNoise = (line: string) => /NodeVersionSupportWarning|--trace-warnings/.test(line);
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !isNoise(l));
  const start = lines.findIndex((l) => l.startsWith('error:'));
  return (start >= 0 ? lines.slice(start) : lines).slice(0, 12).join('\n') || 'lambda-ml printed nothing';
}
