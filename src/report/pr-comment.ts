/**
 * The pull-request comment (docs/ci.md): leads with the headroom, then the checks, the delta and the largest new
 * files. A hidden marker finds it again, so a PR has one comment that is updated, never a second.
 */
import type { BudgetDocument } from './budget-document.js';
import {
  checkAmounts,
  checkStatus,
  DEFAULT_WARN_AT_PERCENT,
  formatPercent1,
  headroomLine,
  leadCheck,
  LIMIT_LABELS,
  type CheckStatus,
} from './checks.js';
import type { BudgetDelta } from './delta.js';
import { formatSignedBytes, renderDeltaMarkdown } from './delta-render.js';
import { renderLargestFilesMarkdown } from './largest-files.js';
import { escapeMarkdown } from './markdown.js';

/** The hidden marker of our comment. */
export const COMMENT_MARKER = '<!-- lambda-ml-budget -->';
/** GitHub refuses comment bodies over 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_536;

export interface PrCommentInput {
  readonly budget: BudgetDocument;
  readonly delta?: BudgetDelta | null;
  readonly name?: string;
  readonly warnAtPercent?: number;
  /** One line about the base: "against main (abc1234)", or why there is no delta. */
  readonly baseNote?: string;
  /** Where the HTML report is: the run's URL and the artifact's name. */
  readonly report?: { readonly url: string | null; readonly artifact: string } | null;
}

const statusCell = (status: CheckStatus, warnAt: number) =>
  ({
    ok: 'ok',
    warn: `⚠️ above ${warnAt}%`,
    over: '❌ **over**',
    'via-s3': 'via S3 (over 50 MiB zipped)',
  })[status];

/** The comment body (also the job summary): markdown with the marker on its first line. */
export function renderPrComment(input: PrCommentInput): string {
  for (const top of [15, 5, 0]) {
    const body = render(input, top);
    if (body.length <= MAX_COMMENT_CHARS) return body;
  }
  return render({ ...input, delta: null, baseNote: 'the delta is too long for a comment: see the job summary' }, 0);
}

function render(input: PrCommentInput, top: number): string {
  const { budget, delta } = input;
  const warnAt = input.warnAtPercent ?? budget.warnAtPercent ?? DEFAULT_WARN_AT_PERCENT;
  const statuses = budget.checks.map((c) => checkStatus(c, warnAt));
  const isNear = statuses.includes('warn');
  const verdict = !budget.fits ? '❌ does not fit' : isNear ? `⚠️ fits, above ${warnAt}% of a limit` : '✅ fits';
  const out: string[] = [COMMENT_MARKER];
  const title = input.name ? ` · ${escapeMarkdown(input.name)}` : '';
  out.push(`### lambda-ml budget${title}: ${verdict}${budget.plan ? ` (plan \`${budget.plan}\`)` : ''}`, '');
  const lead = leadCheck(budget.checks);
  if (lead) {
    const moved = delta?.checks.find((c) => c.limit === lead.limit);
    const against = moved && moved.base !== null ? ` (${formatSignedBytes(moved.bytes)} against the base)` : '';
    out.push(`**${headroomLine(lead)}**${against}`, '');
  }
  out.push('| limit | used | % | status |', '|---|---:|---:|---|');
  budget.checks.forEach((check, i) => {
    const ratio = check.max > 0 ? check.used / check.max : 0;
    const status = statusCell(statuses[i], warnAt);
    out.push(`| ${LIMIT_LABELS[check.limit]} | ${checkAmounts(check)} | ${formatPercent1(ratio)} | ${status} |`);
  });
  out.push('', `Why: ${escapeMarkdown(budget.reason)}`); // a failing reason starts "nothing fits: ..." itself
  const bullet = (text: string) => `- ${escapeMarkdown(text)}`;
  if (budget.suggestions.length) {
    out.push('', '**To make it fit**', '', ...budget.suggestions.map((s) => bullet(s.message)));
  }
  if (budget.warnings.length) {
    out.push('', '<details><summary>Warnings</summary>', '', ...budget.warnings.map(bullet), '', '</details>');
  }
  if (delta) out.push('', renderDeltaMarkdown(delta, top).trimEnd());
  if (delta && delta.newFiles.length && top > 0) {
    out.push('', renderLargestFilesMarkdown(delta.newFiles.slice(0, 10), 'New among the largest files').trimEnd());
  }
  const footer: string[] = [];
  if (input.baseNote) footer.push(escapeMarkdown(input.baseNote));
  if (input.report) {
    const run = input.report.url ? `[this run](${input.report.url})` : 'this run';
    footer.push(`HTML report (treemap): artifact \`${escapeMarkdown(input.report.artifact, true)}\` of ${run}`);
  }
  if (footer.length) out.push('', `<sub>${footer.join(' · ')}</sub>`);
  return out.join('\n') + '\n';
}

export interface ErrorCommentInput {
  readonly exitCode: number;
  /** The first line(s) lambda-ml printed: `error: ...` and `hint: ...`. */
  readonly message: string;
  readonly where: 'head' | 'base';
  readonly runUrl?: string | null;
}

const EXIT_MEANING: Record<number, string> = {
  2: 'bad input (config, flags or files)',
  3: 'AWS or S3 could not be read',
  4: 'a bug in lambda-ml',
};

/** The comment when `budget` could not run (exit 2, 3 or 4): what it said, so the PR author can fix it. */
export function renderErrorComment(input: ErrorCommentInput): string {
  const meaning = EXIT_MEANING[input.exitCode] ?? `exit ${input.exitCode}`;
  const text = input.message.trim().split('\n').slice(0, 20).join('\n').replace(/```/g, 'ˋˋˋ');
  const run = input.runUrl ? ` See [the run](${input.runUrl}).` : '';
  return [
    COMMENT_MARKER,
    `### lambda-ml budget: ❌ could not run on the ${input.where} (exit ${input.exitCode}: ${meaning})`,
    '',
    '```text',
    text || '(no message)',
    '```',
    '',
    `The check fails until \`lambda-ml budget\` runs on the ${input.where}.${run}`,
    '',
  ].join('\n');
}
