/** The human budget report: short, aligned, reads at 80 columns, ends with what to do next. */
import type { ChalkInstance } from 'chalk';
import { formatBytes, formatInt, formatPercent } from '../../lib/bytes.js';
import type { Budget, Check, Config } from '../../types.js';

const LABELS: Record<Check['limit'], string> = { unzipped: 'unzipped', zipDirect: 'zip direct', tmp: '/tmp', memory: 'memory', layers: 'layers' };
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

/** Renders a budget for a terminal; `c` is a colour-or-plain chalk instance. */
export function renderBudget(budget: Budget, config: Config, c: ChalkInstance, topN = 8): string {
  const lines: string[] = [];
  const { code, deps, layers, models } = budget.components;
  lines.push(c.bold(`lambda-ml budget · ${config.function.name}`) + c.dim(` (${config.function.runtime}, ${config.function.architecture}, ${config.function.memoryMb} MB, /tmp ${config.function.ephemeralStorageMb} MB)`));
  lines.push('');
  lines.push(c.bold('Components') + ' '.repeat(29) + c.dim('   unzipped'));
  const row = (label: string, bytes: number, note = '') => lines.push(`  ${pad(label, 36)} ${lpad(formatBytes(bytes), 9)}  ${c.dim(note)}`.trimEnd());
  row('code + handler', code.bytes, `${formatInt(code.files)} files`);
  if (deps.kind !== 'none') {
    row(`deps (${deps.kind})`, deps.bytes, `${formatInt(deps.files)} files, ${deps.packages.length} packages`);
    if (deps.afterStrip !== deps.bytes) row('  after layer strip', deps.afterStrip);
    if (budget.prune.savedBytes > 0) row(`  after prune (${budget.prune.mode})`, deps.afterPrune, budget.prune.rules.slice(0, 3).map((r) => `${r.rule} -${formatBytes(r.bytes)}`).join(', '));
    if (deps.zipBytes !== null) row('  deps.zip (deflate 9)', deps.zipBytes, `${(deps.afterPrune / Math.max(1, deps.zipBytes)).toFixed(1)}x`);
    if (deps.unowned.files > 0) row('  not owned by any package', deps.unowned.bytes, `${formatInt(deps.unowned.files)} files`);
  }
  for (const layer of layers) row(`layer ${layer.name} (${layer.source})`, layer.bytes, layer.provides.length ? `provides ${summarise(layer.provides, 4)}` : '');
  for (const model of models) row(`model ${model.name} (${model.format}, ${model.location})`, model.bytes, `memory ${formatBytes(model.memoryBytes)}${model.quantization ? `, ${model.quantization}` : ''}`);

  if (deps.packages.length > 0) {
    lines.push('', c.bold('Biggest packages'));
    for (const pkg of deps.packages.slice(0, topN)) {
      const note = pkg.providedBy ? c.dim(`layer ${pkg.providedBy}`) + (pkg.layerVersion && pkg.layerVersion !== pkg.version ? c.yellow(` (has ${pkg.layerVersion})`) : '') : '';
      lines.push(`  ${pad(`${pkg.name} ${pkg.version}`, 36)} ${lpad(formatBytes(pkg.bytes), 9)}  ${note}`.trimEnd());
    }
    if (deps.packages.length > topN) lines.push(c.dim(`  … ${deps.packages.length - topN} more (--json lists all)`));
  }

  lines.push('', c.bold(`Limits`) + c.dim(budget.plan ? ` (plan ${budget.plan})` : ' (best attempt: sideload-s3)'));
  for (const check of budget.checks) lines.push(renderCheck(check, c));

  lines.push('');
  if (budget.fits) {
    lines.push(`${c.green('✓ fits')}  plan ${c.bold(budget.plan as string)}: ${budget.reason}`);
  } else {
    lines.push(`${c.red('✗ does not fit')}: ${budget.reason}`);
    for (const attempt of budget.attempts) {
      const fails = attempt.checks.filter((ch) => !ch.ok && ch.blocking);
      lines.push(`  ${pad(attempt.strategy, 17)} ${fails.map((ch) => `${LABELS[ch.limit]} over by ${ch.limit === 'layers' ? ch.used - ch.max : formatBytes(ch.used - ch.max)}`).join(', ')}`);
    }
  }
  if (budget.warnings.length) lines.push('', c.bold('Warnings'), ...budget.warnings.map((w) => `  ${c.yellow('!')} ${w}`));
  if (budget.suggestions.length) lines.push('', c.bold('To make it fit'), ...budget.suggestions.map((s) => `  → ${s.message}`));
  lines.push('', c.dim(budget.fits ? 'Next: lambda-ml package' : 'Next: apply a suggestion above, then run lambda-ml budget again'));
  return lines.join('\n') + '\n';
}

function renderCheck(check: Check, c: ChalkInstance): string {
  const ratio = check.max > 0 ? check.used / check.max : 0;
  const filled = Math.min(20, Math.round(ratio * 20));
  const colour = !check.ok ? (check.blocking ? c.red : c.yellow) : ratio > 0.9 ? c.yellow : c.green;
  const bar = colour('█'.repeat(filled)) + c.dim('░'.repeat(20 - filled));
  const amounts = check.limit === 'layers' ? `${check.used} / ${check.max}` : `${formatBytes(check.used)} / ${formatBytes(check.max)}`;
  const status = check.ok ? c.green('ok') : check.blocking ? c.red('over') : c.yellow('via S3');
  return `  ${pad(LABELS[check.limit], 10)} ${bar} ${lpad(amounts, 21)} ${lpad(formatPercent(ratio), 5)}  ${status}`;
}

function summarise(names: readonly string[], n: number): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')} +${names.length - n}`;
}
