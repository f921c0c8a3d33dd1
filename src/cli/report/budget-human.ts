/** The human budget report: short, aligned, reads at 80 columns, ends with what to do next. */
import type { ChalkInstance } from 'chalk';
import { checkStatus, DEFAULT_WARN_AT_PERCENT } from '../../report/checks.js';
import { formatBytes, formatInt, formatMb, formatPercent } from '../../lib/bytes.js';
import { HANDLER_PROVIDER, type Budget, type Check, type Config } from '../../types.js';
import { formatMax } from './limit-max.js';

const LABELS: Record<Check['limit'], string> = {
  unzipped: 'unzipped',
  zipDirect: 'zip direct',
  tmp: '/tmp',
  memory: 'memory',
  layers: 'layers',
};
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const WIDTH = 80;
const visible = (s: string) => [...s.replace(/\x1b\[[0-9;]*m/g, '')].length;

/** Word-wraps `prefix + text` to 80 columns; continuation lines start with `indent` spaces. */
function wrap(prefix: string, text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = prefix;
  let fresh = true; // nothing but the prefix/indent on `line` yet
  // A number and its unit ("3.0 MB") never break apart.
  for (const word of text
    .replace(/(\d) (B|KiB|MiB|GiB|TiB|MB|bytes?)(?![\w])/g, '$1\u00a0$2')
    .split(' ')
    .map((w) => w.replace(/\u00a0/g, ' '))) {
    if (!fresh && visible(line) + 1 + visible(word) > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else line = fresh ? line + word : `${line} ${word}`;
    fresh = false;
  }
  lines.push(line);
  return lines;
}

/**
 * Renders a budget for a terminal; `c` is a colour-or-plain chalk instance; bars above `warnAtPercent` are amber.
 * `sections` (the largest files, the delta) go before the closing "Next:" line.
 */
export function renderBudget(
  budget: Budget,
  config: Config,
  c: ChalkInstance,
  topN = 8,
  warnAtPercent = DEFAULT_WARN_AT_PERCENT,
  sections: readonly string[] = [],
): string {
  const lines: string[] = [];
  const { code, deps, layers, models } = budget.components;
  lines.push(
    ...wrap(
      c.bold(`lambda-ml budget · ${config.function.name}`) + ' ',
      c.dim(
        `(${config.function.runtime}, ${config.function.architecture},` +
          ` ${formatMb(config.function.memoryMb)}, /tmp ${formatMb(config.function.ephemeralStorageMb)})`,
      ),
      2,
    ),
  );
  lines.push('');
  lines.push(c.bold('Components') + ' '.repeat(29) + c.dim('   unzipped'));
  const row = (label: string, bytes: number, note = '') => {
    const head = `  ${pad(label, 36)} ${lpad(formatBytes(bytes), 9)}  `;
    lines.push(
      ...wrap(head, note, visible(head))
        .map((l) => l.trimEnd())
        .map((l, i) => (i === 0 ? l.slice(0, head.length) + c.dim(l.slice(head.length)) : c.dim(l))),
    );
  };
  row('code + handler', code.bytes, `${formatInt(code.files)} files`);
  if (deps.kind !== 'none') {
    row(`deps (${deps.kind})`, deps.bytes, `${plural(deps.files, 'file')}, ${plural(deps.packages.length, 'package')}`);
    if (deps.afterStrip !== deps.bytes) row('  after layer strip', deps.afterStrip);
    if (budget.prune.savedBytes > 0)
      row(
        `  after prune (${budget.prune.mode})`,
        deps.afterPrune,
        budget.prune.rules
          .slice(0, 2)
          .map((r) => `${r.rule} -${formatBytes(r.bytes)}`)
          .join(', '),
      );
    const archiveBytes = deps.archiveBytes ?? deps.zipBytes; // the sideload archive, tar.br or zip
    const archiveLabel = deps.format === 'tar.br' ? '  deps.tar.br (brotli 9)' : '  deps.zip (deflate 9)';
    if (archiveBytes !== null && archiveBytes !== undefined)
      row(archiveLabel, archiveBytes, `${(deps.afterPrune / Math.max(1, archiveBytes)).toFixed(1)}x`);
    if (deps.unowned.files > 0)
      row('  not owned by any package', deps.unowned.bytes, plural(deps.unowned.files, 'file'));
  }
  for (const layer of layers)
    row(
      `layer ${layer.name} (${layer.source})`,
      layer.bytes,
      layer.provides.length ? `provides ${summarise(layer.provides, 4)}` : '',
    );
  for (const model of models)
    row(
      `model ${model.name} (${model.format}, ${model.location})`,
      model.bytes,
      `memory ${formatBytes(model.memoryBytes)}${model.quantization ? `, ${model.quantization}` : ''}` +
        (model.backend ? `, on ${model.backend}` : ''),
    );

  if (deps.packages.length > 0) {
    lines.push('', c.bold('Biggest packages'));
    for (const pkg of deps.packages.slice(0, topN)) {
      const note = pkg.providedBy
        ? c.dim(pkg.providedBy === HANDLER_PROVIDER ? 'in the handler' : `layer ${pkg.providedBy}`) +
          (pkg.layerVersion && pkg.layerVersion !== pkg.version ? c.yellow(` (has ${pkg.layerVersion})`) : '')
        : '';
      lines.push(
        `  ${pad(fit(`${pkg.name} ${pkg.version}`, 36), 36)} ${lpad(formatBytes(pkg.bytes), 9)}  ${note}`.trimEnd(),
      );
    }
    if (deps.packages.length > topN) lines.push(c.dim(`  … ${deps.packages.length - topN} more (--json lists all)`));
  }

  lines.push('', c.bold(`Limits`) + c.dim(budget.plan ? ` (plan ${budget.plan})` : ' (best attempt: sideload-s3)'));
  for (const check of budget.checks) lines.push(renderCheck(check, config, c, warnAtPercent));

  lines.push('');
  if (budget.fits) {
    lines.push(...wrap(`${c.green('✓ fits')}  plan ${c.bold(budget.plan as string)}: `, budget.reason, 2));
  } else {
    lines.push(...wrap(`${c.red('✗ does not fit')}: `, budget.reason, 2));
    for (const attempt of budget.attempts) {
      const fails = attempt.checks.filter((ch) => !ch.ok && ch.blocking);
      lines.push(
        ...wrap(
          `  ${pad(attempt.strategy, 17)} `,
          fails
            .map(
              (ch) =>
                `${LABELS[ch.limit]} over ` +
                `by ${ch.limit === 'layers' ? ch.used - ch.max : formatBytes(ch.used - ch.max)}`,
            )
            .join(', '),
          20,
        ),
      );
    }
  }
  if (budget.warnings.length)
    lines.push('', c.bold('Warnings'), ...budget.warnings.flatMap((w) => wrap(`  ${c.yellow('!')} `, w, 4)));
  if (budget.suggestions.length)
    lines.push('', c.bold('To make it fit'), ...budget.suggestions.flatMap((s) => wrap('  → ', s.message, 4)));
  for (const section of sections) if (section) lines.push('', section.trimEnd());
  lines.push('', c.dim(nextLine(budget)));
  return lines.join('\n') + '\n';
}

function renderCheck(check: Check, config: Config, c: ChalkInstance, warnAtPercent: number): string {
  const ratio = check.max > 0 ? check.used / check.max : 0;
  const filled = Math.min(20, Math.round(ratio * 20));
  const state = checkStatus(check, warnAtPercent);
  const colour = state === 'over' ? c.red : state === 'ok' ? c.green : c.yellow;
  const bar = colour('█'.repeat(filled)) + c.dim('░'.repeat(20 - filled));
  const amounts =
    check.limit === 'layers'
      ? `${check.used} / ${check.max}`
      : `${formatBytes(check.used)} / ${formatMax(check, config)}`;
  const status = { ok: c.green('ok'), warn: c.yellow('near'), over: c.red('over'), 'via-s3': c.yellow('via S3') }[
    state
  ];
  return `  ${pad(LABELS[check.limit], 10)} ${bar} ${lpad(amounts, 21)} ${lpad(formatPercent(ratio), 5)}  ${status}`;
}

function nextLine(budget: Budget): string {
  if (budget.fits) return 'Next: lambda-ml package';
  if (budget.suggestions.length > 0) return 'Next: apply a suggestion above, then run lambda-ml budget again';
  return 'Next: shrink what the failing limits above count (deps, layers, models), then run lambda-ml budget again';
}

/** Cuts `text` to `n` columns with an ellipsis. */
const fit = (text: string, n: number) => (text.length <= n ? text : `${text.slice(0, n - 1)}…`);
const plural = (n: number, word: string) => `${formatInt(n)} ${word}${n === 1 ? '' : 's'}`;

function summarise(names: readonly string[], n: number): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')} +${names.length - n}`;
}
