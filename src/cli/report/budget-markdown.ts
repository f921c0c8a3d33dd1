/** `budget --markdown`: a report for a CI job summary ($GITHUB_STEP_SUMMARY). */
import { formatBytes, formatInt, formatPercent } from '../../lib/bytes.js';
import { checkStatus, DEFAULT_WARN_AT_PERCENT, headroomLine, leadCheck } from '../../report/checks.js';
import type { BudgetDelta } from '../../report/delta.js';
import { renderDeltaMarkdown } from '../../report/delta-render.js';
import { renderLargestFilesMarkdown, type LargestFile } from '../../report/largest-files.js';
import type { Budget, Config } from '../../types.js';
import { formatMax } from './limit-max.js';

/** What `budget --markdown` adds with --files N and --base FILE, and the soft budget the run used. */
export interface MarkdownExtras {
  readonly warnAtPercent?: number;
  readonly files?: readonly LargestFile[];
  readonly delta?: BudgetDelta | null;
}

const STATUS = { ok: 'ok', warn: 'near', over: '**over**', 'via-s3': 'via S3' } as const;

/** Renders the budget as GitHub-flavoured markdown; it leads with the headroom (docs/report.md). */
export function renderBudgetMarkdown(budget: Budget, config: Config, extras: MarkdownExtras = {}): string {
  const warnAt = extras.warnAtPercent ?? DEFAULT_WARN_AT_PERCENT;
  const out: string[] = [];
  out.push(`## lambda-ml budget: ${config.function.name} ${budget.fits ? '✅ fits' : '❌ does not fit'}`, '');
  const lead = leadCheck(budget.checks);
  if (lead) out.push(`**${headroomLine(lead)}**`, '');
  out.push(budget.fits ? `**Plan:** \`${budget.plan}\`: ${budget.reason}` : `**Why:** ${budget.reason}`, '');
  out.push('| limit | used | max | % | status |', '|---|---:|---:|---:|---|');
  for (const check of budget.checks) {
    const used = check.limit === 'layers' ? String(check.used) : formatBytes(check.used);
    out.push(
      `| ${check.limit} | ${used} | ${formatMax(check, config)} ` +
        `| ${formatPercent(check.used / check.max)} | ${STATUS[checkStatus(check, warnAt)]} |`,
    );
  }
  const { code, deps, layers, models } = budget.components;
  out.push('', '| component | unzipped | note |', '|---|---:|---|');
  out.push(`| code + handler | ${formatBytes(code.bytes)} | ${formatInt(code.files)} files |`);
  if (deps.kind !== 'none') {
    out.push(`| deps (${deps.kind}) | ${formatBytes(deps.bytes)} | ${formatInt(deps.packages.length)} packages |`);
    out.push(
      `| deps after strip / prune | ${formatBytes(deps.afterStrip)} ` +
        `/ ${formatBytes(deps.afterPrune)} | prune: ${budget.prune.mode} |`,
    );
    const archiveBytes = deps.archiveBytes ?? deps.zipBytes; // the sideload archive, tar.br or zip
    const archiveLabel = deps.format === 'tar.br' ? 'deps.tar.br (brotli 9)' : 'deps.zip (level 9)';
    if (archiveBytes !== null && archiveBytes !== undefined)
      out.push(`| ${archiveLabel} | ${formatBytes(archiveBytes)} | |`);
  }
  for (const layer of layers)
    out.push(`| layer ${layer.name} | ${formatBytes(layer.bytes)} | provides ${layer.provides.join(', ')} |`);
  for (const model of models)
    out.push(
      `| model ${model.name} | ${formatBytes(model.bytes)} ` +
        `| ${model.format}, ${model.location}, memory ${formatBytes(model.memoryBytes)}` +
        `${model.backend ? `, on ${model.backend}` : ''} |`,
    );
  if (budget.warnings.length) out.push('', '**Warnings**', '', ...budget.warnings.map((w) => `- ${w}`));
  if (budget.suggestions.length)
    out.push('', '**To make it fit**', '', ...budget.suggestions.map((s) => `- ${s.message}`));
  if (extras.files?.length) out.push('', renderLargestFilesMarkdown(extras.files).trimEnd());
  if (extras.delta) out.push('', renderDeltaMarkdown(extras.delta).trimEnd());
  return out.join('\n') + '\n';
}
