/**
 * The Action's steps after `npm ci` (docs/ci.md): budget the base and the head with the head's lambda-ml, write the
 * markdown with the delta to the job summary, create or update the one PR comment, and say how the check ends.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { budgetDelta, type BudgetDelta } from '../report/delta.js';
import { renderDeltaMarkdown } from '../report/delta-render.js';
import { GitHubApiError, upsertComment } from '../report/github.js';
import { renderErrorComment, renderPrComment } from '../report/pr-comment.js';
import { headroomLine, leadCheck } from '../report/checks.js';
import { budgetBase, type BaseBudget } from './base.js';
import { hasReportFlags, runBudgetJson, type BudgetRunResult } from './budget-run.js';
import type { ActionContext } from './context.js';
import { runCommand } from './exec.js';

export type CommentOutcome = 'created' | 'updated' | 'unchanged' | 'fallback' | 'skipped' | 'failed';

export interface ActionOutcome {
  /** The check's result: budget's exit code (0 ok, 1 over budget, 2 bad input, 3 AWS/S3, 4 bug). */
  readonly exitCode: number;
  readonly comment: CommentOutcome;
  /** The HTML report, when budget wrote one. */
  readonly html: string | null;
  /** The comment body (also when it could not be posted). */
  readonly body: string;
  /** One line for the log and the check's annotation. */
  readonly headline: string;
}

export interface ActionDeps {
  readonly log: (text: string) => void;
  readonly fetch?: typeof fetch;
}

/** Fork pull requests get a read-only token: the report stays in the job summary. */
export const FORK_NOTE =
  '> **Note:** the token of this run may not comment on the pull request (a pull request ' +
  'from a fork gets a read-only token), so the report is only here, in the job summary.';

/** Runs everything after the head's `npm ci`. Never throws for a budget that fails: the outcome says so. */
export async function runAction(ctx: ActionContext, deps: ActionDeps): Promise<ActionOutcome> {
  await mkdir(ctx.outDir, { recursive: true });
  const html = join(ctx.outDir, 'report.html');
  await rm(html, { force: true });
  const base = await budgetBase(ctx, deps.log);
  const isRich = await hasReportFlags(ctx.cli, ctx.workdir);
  if (!isRich) deps.log('this lambda-ml has no --base/--html/--files: the Action computes the delta, no HTML report\n');
  const configArgs = ctx.config ? ['--config', ctx.config] : [];
  const baseArg = base.file ? ['--base', base.file] : [];
  const reportArgs = isRich ? [...baseArg, '--html', html, '--files', String(ctx.files)] : [];
  const head = await runBudgetJson(ctx.cli, ctx.workdir, [...configArgs, ...reportArgs], deps.log);
  const htmlPath = existsSync(html) ? html : null;
  let body: string;
  let headline: string;
  if (head.doc) {
    const delta = head.doc.delta ?? (base.doc ? budgetDelta(base.doc, head.doc) : null);
    body = renderPrComment({
      budget: head.doc,
      delta,
      baseNote: base.note,
      report: htmlPath ? { url: ctx.runUrl, artifact: ctx.artifact } : null,
    });
    await writeSummary(ctx, { isRich, base, delta, configArgs, fallback: body });
    const lead = leadCheck(head.doc.checks);
    headline = `${head.doc.fits ? 'fits' : 'does not fit'}${lead ? `: ${headroomLine(lead)}` : ''}`;
  } else {
    body = renderErrorComment({ exitCode: head.code, message: head.error ?? '', where: 'head', runUrl: ctx.runUrl });
    await appendSummary(ctx, body);
    headline = `could not run (exit ${head.code}): ${(head.error ?? '').split('\n')[0]}`;
  }
  const comment = await postComment(ctx, body, deps);
  if (comment === 'fallback') await appendSummary(ctx, FORK_NOTE);
  const outcome: ActionOutcome = { exitCode: head.code, comment, html: htmlPath, body, headline };
  await writeOutputs(ctx, outcome, head);
  return outcome;
}

interface SummaryInput {
  readonly isRich: boolean;
  readonly base: BaseBudget;
  readonly delta: BudgetDelta | null;
  readonly configArgs: readonly string[];
  readonly fallback: string;
}

/** `budget --markdown $GITHUB_STEP_SUMMARY` (with --base when this lambda-ml has it, else our delta after it). */
async function writeSummary(ctx: ActionContext, input: SummaryInput): Promise<void> {
  if (!ctx.summaryPath) return;
  const baseArg = input.base.file ? ['--base', input.base.file] : [];
  const reportArgs = input.isRich ? [...baseArg, '--files', String(ctx.files)] : [];
  const argv = [...ctx.cli, 'budget', '--markdown', ctx.summaryPath, '--quiet', ...input.configArgs, ...reportArgs];
  const ran = await runCommand(argv, { cwd: ctx.workdir });
  if (ran.code !== 0 && ran.code !== 1) {
    await appendSummary(ctx, input.fallback); // the markdown run failed where the JSON run did not: keep a report
    return;
  }
  if (!input.isRich && input.delta) await appendSummary(ctx, renderDeltaMarkdown(input.delta));
  if (input.base.note) await appendSummary(ctx, `<sub>${input.base.note}</sub>`);
}

async function appendSummary(ctx: ActionContext, markdown: string): Promise<void> {
  if (ctx.summaryPath) await appendFile(ctx.summaryPath, `\n${markdown.trimEnd()}\n`);
}

async function postComment(ctx: ActionContext, body: string, deps: ActionDeps): Promise<CommentOutcome> {
  if (!ctx.comment || ctx.issue === null || !ctx.repo || !ctx.token) return 'skipped';
  try {
    const { api, token, repo, issue } = ctx;
    const result = await upsertComment({ api, token, repo, issue, body, fetch: deps.fetch });
    if (!result.ok) {
      deps.log(`${result.message}: the report is in the job summary\n`);
      return 'fallback';
    }
    deps.log(`PR comment ${result.action}: ${result.url}\n`);
    return result.action;
  } catch (error) {
    // A comment that cannot be written does not decide the check: budget does. Say it loudly in the log.
    const message =
      error instanceof GitHubApiError ? error.message : `GitHub could not be reached: ${(error as Error).message}`;
    deps.log(`::warning::${message}\n`);
    return 'failed';
  }
}

async function writeOutputs(ctx: ActionContext, outcome: ActionOutcome, head: BudgetRunResult): Promise<void> {
  if (!ctx.outputPath) return;
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const lines = [
    `exit-code=${outcome.exitCode}`,
    `fits=${head.doc ? String(head.doc.fits) : 'false'}`,
    `html=${outcome.html ?? ''}`,
    `comment=${outcome.comment}`,
    `headline=${oneLine(outcome.headline)}`,
  ];
  await appendFile(ctx.outputPath, lines.join('\n') + '\n');
}
