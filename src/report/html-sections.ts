/** The parts of the HTML report that are plain HTML (bars, plan, suggestions, files, delta): every string escaped. */
import { formatBytes, formatInt } from '../lib/bytes.js';
import type { Check } from '../types.js';
import type { BudgetDocument } from './budget-document.js';
import {
  checkAmounts,
  checkStatus,
  formatMiB1,
  formatPercent1,
  headroomLine,
  leadCheck,
  LIMIT_LABELS,
  type CheckStatus,
} from './checks.js';
import type { BudgetDelta, PackageDelta, SizeChange } from './delta.js';
import { countsLine, FLAG_LABELS, formatChangePercent, formatSignedBytes } from './delta-render.js';
import type { LargestFile } from './largest-files.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = escapeHtml;

/** A table cell of text (escaped here); `num` aligns it right. */
const td = (text: string, num = false) => `<td${num ? ' class="num"' : ''}>${e(text)}</td>`;
const tr = (cells: string[], cls?: string) => `<tr${cls ? ` class="${e(cls)}"` : ''}>${cells.join('')}</tr>`;
/** A table: headers (those ending in "#" are numeric), its rows, and optional column classes. */
function table(headers: string[], rows: string[], options: { compact?: boolean; cols?: string[] } = {}): string {
  const ths = headers.map((h) => (h.endsWith('#') ? `<th class="num">${e(h.slice(0, -1))}</th>` : `<th>${e(h)}</th>`));
  const col = (c: string) => (c ? `<col class="${c}">` : '<col>');
  const cols = options.cols ? `<colgroup>${options.cols.map(col).join('')}</colgroup>` : '';
  return (
    `<table${options.compact ? ' class="compact"' : ''}>${cols}<thead><tr>${ths.join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}
const list = (items: readonly string[]) => `<ul>${items.map((i) => `<li>${e(i)}</li>`).join('')}</ul>`;

const STATUS_TEXT: Record<CheckStatus, string> = { ok: 'ok', warn: 'near the limit', over: 'over', 'via-s3': 'via S3' };

/** The title block: what was budgeted, whether it fits, and the headroom line. */
export function headerSection(budget: BudgetDocument, name: string | undefined, warnAt: number): string {
  const isNear = budget.checks.some((c) => checkStatus(c, warnAt) === 'warn');
  const verdict = !budget.fits ? 'does not fit' : isNear ? `fits, above ${warnAt}% of a limit` : 'fits';
  const cls = !budget.fits ? 'over' : isNear ? 'warn' : 'ok';
  const lead = leadCheck(budget.checks);
  const plan = budget.plan ? ` · plan <code>${e(budget.plan)}</code>` : '';
  return `<header>
<h1>lambda-ml budget${name ? ` · ${e(name)}` : ''}</h1>
<p class="verdict status-${cls}"><strong>${e(verdict)}</strong>${plan}</p>
${lead ? `<p class="lead">${e(headroomLine(lead))}</p>` : ''}
</header>`;
}

/** One bar per limit: used / limit, the headroom, and a mark at the soft budget. */
export function barsSection(checks: readonly Check[], warnAt: number): string {
  const rows = checks.map((check) => {
    const status = checkStatus(check, warnAt);
    const ratio = check.max > 0 ? check.used / check.max : 0;
    const left = check.max - check.used;
    const fmt = (n: number) => (check.limit === 'layers' ? formatInt(n) : formatMiB1(n));
    const free = check.limit === 'layers' ? `${fmt(left)} more allowed` : `${fmt(left)} headroom`;
    const room = left >= 0 ? free : `over by ${fmt(-left)}`;
    const soft =
      check.limit === 'layers'
        ? ''
        : `<span class="soft" style="left:${warnAt}%" title="soft budget ${warnAt}%"></span>`;
    const fill = `<span class="fill" style="width:${Math.min(100, ratio * 100).toFixed(2)}%"></span>`;
    const label = e(`${checkAmounts(check)}, ${formatPercent1(ratio)}`);
    const amounts = `${checkAmounts(check)} · ${formatPercent1(ratio)} · ${room}`;
    const text = `${e(amounts)} · <b>${e(STATUS_TEXT[status])}</b>`;
    return `<div class="bar-row status-${status}" data-limit="${e(check.limit)}">
<span class="bar-label">${e(LIMIT_LABELS[check.limit])}</span>
<span class="bar" role="img" aria-label="${label}">${fill}${soft}</span>
<span class="bar-text">${text}</span>
</div>`;
  });
  const note =
    `The mark on each bar is the soft budget (warnAtPercent, ${warnAt}%): ` +
    'above it budget warns and still exits 0.';
  return `<section id="limits"><h2>Limits</h2>${rows.join('\n')}\n<p class="note">${e(note)}</p></section>`;
}

/** The plan and why, every plan's failing checks, warnings and suggestions. */
export function planSection(budget: BudgetDocument): string {
  const attempts = budget.attempts.map((a) => {
    const fails = a.checks.filter((c) => !c.ok && c.blocking).map((c) => `${LIMIT_LABELS[c.limit]} over by ${over(c)}`);
    const strategy = `<td><code>${e(a.strategy)}</code></td>`;
    return tr([strategy, td(a.fits ? 'fits' : 'does not fit'), td(fails.join(', ') || '–')]);
  });
  const fixes = budget.suggestions.map((s) => s.message);
  const suggestions = fixes.length ? `<h3>To make it fit</h3>${list(fixes)}` : '';
  const warnings = budget.warnings.length ? `<h3>Warnings</h3>${list(budget.warnings)}` : '';
  const plan = budget.plan ? `<code>${e(budget.plan)}</code>: ` : ''; // a failing reason says "nothing fits" itself
  return `<section id="plan"><h2>Plan</h2>
<p>${plan}${e(budget.reason)}</p>
${table(['plan', 'result', 'failing limits'], attempts, { compact: true })}
${suggestions}${warnings}</section>`;
}

const over = (c: Check) => (c.limit === 'layers' ? String(c.used - c.max) : formatBytes(c.used - c.max));

/** The components: code, deps before and after strip and prune, layers, models. */
export function componentsSection(budget: BudgetDocument): string {
  const { code, deps, layers, models } = budget.components;
  const rows: [string, number, string][] = [['code + handler', code.bytes, `${formatInt(code.files)} files`]];
  if (deps.kind !== 'none') {
    const counts = `${formatInt(deps.files)} files, ${formatInt(deps.packages.length)} packages`;
    rows.push([`deps (${deps.kind})`, deps.bytes, counts]);
    if (deps.afterStrip !== deps.bytes) rows.push(['deps after layer strip', deps.afterStrip, '']);
    const rules = budget.prune.rules
      .slice(0, 3)
      .map((r) => `${r.rule} −${formatBytes(r.bytes)}`)
      .join(', ');
    rows.push([`deps after prune (${budget.prune.mode})`, deps.afterPrune, rules]);
    const archiveBytes = deps.archiveBytes ?? deps.zipBytes; // the sideload archive, tar.br or zip
    const archiveLabel = deps.format === 'tar.br' ? 'deps.tar.br (brotli 9)' : 'deps.zip (level 9)';
    if (archiveBytes !== null && archiveBytes !== undefined) rows.push([archiveLabel, archiveBytes, '']);
  }
  for (const l of layers) {
    rows.push([`layer ${l.name} (${l.source})`, l.bytes, l.provides.length ? `provides ${l.provides.join(', ')}` : '']);
  }
  for (const m of models) {
    const note = `memory ${formatBytes(m.memoryBytes)}${m.quantization ? `, ${m.quantization}` : ''}`;
    rows.push([`model ${m.name} (${m.format}, ${m.location})`, m.bytes, note]);
  }
  const body = rows.map(([label, bytes, note]) => tr([td(label), td(formatBytes(bytes), true), td(note)]));
  return (
    `<section id="components"><h2>Components</h2>` +
    `${table(['component', 'unzipped#', 'note'], body, { cols: ['w40', 'w15', ''] })}</section>`
  );
}

/** The largest shipped files with their package. */
export function filesSection(files: readonly LargestFile[], limits: ReadonlyMap<string, number>): string {
  const rows = files.map((f) => {
    const max = f.limit ? limits.get(f.limit) : undefined;
    const share = max ? `${formatPercent1(f.bytes / max)} of ${f.limit === 'tmp' ? '/tmp' : 'unzipped'}` : '';
    const path = `<td class="path">${e(f.path)}</td>`;
    return tr([td(formatBytes(f.bytes), true), path, td(f.package ?? '–'), td(f.artifact), td(share, true)]);
  });
  const cols = ['w10', '', 'w20', 'w15', 'w15'];
  const body = table(['size#', 'file', 'package', 'in', 'share#'], rows, { cols });
  return `<section id="largest"><h2>Largest files</h2>${body}</section>`;
}

/** The delta against the base: limits, components, changed packages, flags. */
export function deltaSection(delta: BudgetDelta, top = 30): string {
  const sizes = (c: SizeChange) => [td(size(c.base), true), td(size(c.head), true), td(change(c), true)];
  const checks = delta.checks
    .filter((c) => c.limit !== 'layers')
    .map((c) => tr([td(LIMIT_LABELS[c.limit]), ...sizes(c)]));
  const components = delta.components
    .filter((c) => c.status !== 'unchanged')
    .map((c) => tr([td(c.name), ...sizes(c)], `st-${c.status}`));
  const changed = delta.packages.filter((p) => p.status !== 'unchanged');
  const packages = changed.slice(0, top).map((p) => tr([td(p.name), td(versions(p)), ...sizes(p)], `st-${p.status}`));
  const hidden = changed.length - top;
  const more = hidden > 0 ? `<p class="note">… ${hidden} more changed packages (the JSON lists all).</p>` : '';
  const flags = delta.flags.map((f) => {
    const where = f.package ? ` (${e(f.package)})` : '';
    const what = `${e(FLAG_LABELS[f.kind])}: <code>${e(f.name)}</code>`;
    return `<li class="flag">${what}${where}, ${e(formatBytes(f.bytes))}</li>`;
  });
  const parts = [
    table(['limit', 'base#', 'head#', 'change#'], checks, { compact: true }),
    components.length ? table(['component', 'base#', 'head#', 'change#'], components, { compact: true }) : '',
    `<p>Packages: ${e(countsLine(delta))}. Changed packages are outlined in the treemap.</p>`,
    packages.length
      ? table(['package', 'version', 'base#', 'head#', 'change#'], packages, { cols: ['w30', 'w25', '', '', ''] })
      : '',
    more,
    flags.length ? `<ul class="flags">${flags.join('')}</ul>` : '',
    ...delta.notes.map((n) => `<p class="note">${e(n)}</p>`),
  ];
  return `<section id="delta"><h2>Against the base</h2>\n${parts.filter(Boolean).join('\n')}</section>`;
}

const size = (bytes: number | null) => (bytes === null ? '–' : formatBytes(bytes));
const change = (c: SizeChange) => {
  const pct = formatChangePercent(c);
  return `${formatSignedBytes(c.bytes)}${pct ? ` (${pct})` : ''}`;
};
function versions(p: PackageDelta): string {
  const a = p.baseVersions.join(', ');
  const b = p.headVersions.join(', ');
  return p.status === 'added' ? b : p.status === 'removed' ? a : a === b ? b : `${a} → ${b}`;
}
