/** `budget --markdown`: a report for a CI job summary ($GITHUB_STEP_SUMMARY). */
import { formatBytes, formatPercent } from '../../lib/bytes.js';
import type { Budget, Config } from '../../types.js';

/** Renders the budget as GitHub-flavoured markdown. */
export function renderBudgetMarkdown(budget: Budget, config: Config): string {
  const out: string[] = [];
  out.push(`## lambda-ml budget: ${config.function.name} ${budget.fits ? '✅ fits' : '❌ does not fit'}`, '');
  out.push(budget.fits ? `**Plan:** \`${budget.plan}\`: ${budget.reason}` : `**Nothing fits:** ${budget.reason}`, '');
  out.push('| limit | used | max | % | status |', '|---|---:|---:|---:|---|');
  for (const check of budget.checks) {
    const fmt = (n: number) => (check.limit === 'layers' ? String(n) : formatBytes(n));
    out.push(`| ${check.limit} | ${fmt(check.used)} | ${fmt(check.max)} | ${formatPercent(check.used / check.max)} | ${check.ok ? 'ok' : check.blocking ? '**over**' : 'via S3'} |`);
  }
  const { code, deps, layers, models } = budget.components;
  out.push('', '| component | unzipped | note |', '|---|---:|---|');
  out.push(`| code + handler | ${formatBytes(code.bytes)} | ${code.files} files |`);
  if (deps.kind !== 'none') {
    out.push(`| deps (${deps.kind}) | ${formatBytes(deps.bytes)} | ${deps.packages.length} packages |`);
    out.push(`| deps after strip / prune | ${formatBytes(deps.afterStrip)} / ${formatBytes(deps.afterPrune)} | prune: ${budget.prune.mode} |`);
    if (deps.zipBytes !== null) out.push(`| deps.zip (level 9) | ${formatBytes(deps.zipBytes)} | |`);
  }
  for (const layer of layers) out.push(`| layer ${layer.name} | ${formatBytes(layer.bytes)} | provides ${layer.provides.join(', ')} |`);
  for (const model of models) out.push(`| model ${model.name} | ${formatBytes(model.bytes)} | ${model.format}, ${model.location}, memory ${formatBytes(model.memoryBytes)} |`);
  if (budget.warnings.length) out.push('', '**Warnings**', '', ...budget.warnings.map((w) => `- ${w}`));
  if (budget.suggestions.length) out.push('', '**To make it fit**', '', ...budget.suggestions.map((s) => `- ${s.message}`));
  return out.join('\n') + '\n';
}
