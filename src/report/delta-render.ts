/** The delta in words: for the terminal and for markdown (job summary, PR comment). */
import { formatBytes } from '../lib/bytes.js';
import { LIMIT_LABELS } from './checks.js';
import type { BudgetDelta, ComponentDelta, DeltaFlag, PackageDelta, SizeChange } from './delta.js';
import { codeSpan, escapeMarkdown } from './markdown.js';

/** "+1.2 MiB", "-300 KiB", "±0 B". */
export const formatSignedBytes = (bytes: number) =>
  bytes > 0 ? `+${formatBytes(bytes)}` : bytes < 0 ? formatBytes(bytes) : '±0 B';

/** "+12.5%", "-3%", "new", "gone", "". */
export function formatChangePercent(change: SizeChange): string {
  if (change.status === 'added') return 'new';
  if (change.status === 'removed') return 'gone';
  if (change.percent === null || change.bytes === 0) return '';
  const digits = Math.abs(change.percent) < 10 ? 1 : 0;
  return `${change.percent > 0 ? '+' : ''}${change.percent.toFixed(digits)}%`;
}

/** How each flag reads. */
export const FLAG_LABELS: Record<DeltaFlag['kind'], string> = {
  native: 'new native binary',
  wasm: 'new .wasm file',
  model: 'new model',
};

/** "3 added, 1 removed, 2 grown, 1 shrunk, 97 unchanged". */
export function countsLine(delta: BudgetDelta): string {
  const c = delta.counts;
  return `${c.added} added, ${c.removed} removed, ${c.grown} grown, ${c.shrunk} shrunk, ${c.unchanged} unchanged`;
}

const changedPackages = (delta: BudgetDelta) => delta.packages.filter((p) => p.status !== 'unchanged');
const changedComponents = (delta: BudgetDelta) => delta.components.filter((c) => c.status !== 'unchanged');

function versionNote(pkg: PackageDelta): string {
  const notes: string[] = [];
  const a = pkg.baseVersions.join(', ');
  const b = pkg.headVersions.join(', ');
  if (pkg.status === 'added') notes.push(b);
  else if (pkg.status === 'removed') notes.push(a);
  else if (a !== b) notes.push(`${a} → ${b}`);
  else notes.push(b);
  const { base: layerBefore, head: layerNow } = pkg.providedBy;
  if (layerNow && layerNow !== layerBefore) notes.push(`now from layer ${layerNow}`);
  if (layerBefore && !layerNow && pkg.status !== 'removed') notes.push(`no longer from layer ${layerBefore}`);
  return notes.join('; ');
}

/** For the terminal (80 columns): changed limits, components, the biggest package changes and the flags. */
export function renderDeltaText(delta: BudgetDelta, top = 10): string {
  const lines = ['Changes against the base'];
  for (const check of delta.checks) {
    if (check.status === 'unchanged' || check.limit === 'layers') continue;
    const bytes = formatSignedBytes(check.bytes).padStart(11);
    lines.push(`  ${LIMIT_LABELS[check.limit].padEnd(10)} ${bytes}  ${formatChangePercent(check)}`.trimEnd());
  }
  for (const c of changedComponents(delta)) {
    const bytes = formatSignedBytes(c.bytes).padStart(11);
    lines.push(`  ${cut(c.name, 30).padEnd(30)} ${bytes}  ${formatChangePercent(c)}`.trimEnd());
  }
  lines.push(`  packages: ${countsLine(delta)}`);
  const changed = changedPackages(delta);
  for (const pkg of changed.slice(0, top)) {
    const sign = pkg.status === 'added' ? '+' : pkg.status === 'removed' ? '-' : '~';
    const bytes = formatSignedBytes(pkg.bytes).padStart(11);
    lines.push(`    ${sign} ${cut(pkg.name, 34).padEnd(34)} ${bytes}  ${cut(versionNote(pkg), 20)}`.trimEnd());
  }
  if (changed.length > top) lines.push(`    … ${changed.length - top} more (--json lists all)`);
  for (const flag of delta.flags) {
    if (flag.kind === 'model') lines.push(`  ! ${FLAG_LABELS[flag.kind]}: ${cut(flag.name, 40)} (${flagDetail(flag)})`);
    else lines.push(`  ! ${FLAG_LABELS[flag.kind]} (${flagDetail(flag)})`, `    ${cutStart(flag.name, 76)}`);
  }
  return lines.join('\n') + '\n';
}

const flagDetail = (flag: DeltaFlag) =>
  flag.package ? `${flag.package}, ${formatBytes(flag.bytes)}` : formatBytes(flag.bytes);
const cut = (text: string, n: number) => (text.length <= n ? text : `${text.slice(0, n - 1)}…`);
const cutStart = (text: string, n: number) => (text.length <= n ? text : `…${text.slice(text.length - n + 1)}`);

/** Markdown: a limits line, a components table, the biggest package changes, the flags. */
export function renderDeltaMarkdown(delta: BudgetDelta, top = 15): string {
  const out: string[] = [];
  const moved = delta.checks.filter((c) => c.status !== 'unchanged' && c.limit !== 'layers');
  const limits = moved.map((c) => `${LIMIT_LABELS[c.limit]} ${formatSignedBytes(c.bytes)}${pct(c)}`);
  out.push(`**Against the base:** ${limits.length ? limits.join(', ') : 'no limit changed'}`);
  if (delta.base.plan !== delta.head.plan || delta.base.fits !== delta.head.fits) {
    out.push('', `Plan: \`${delta.base.plan ?? 'none fits'}\` → \`${delta.head.plan ?? 'none fits'}\``);
  }
  const components = changedComponents(delta);
  if (components.length) {
    out.push('', '| component | base | head | change |', '|---|---:|---:|---:|');
    for (const c of components) {
      out.push(`| ${escapeMarkdown(c.name)} | ${size(c.base)} | ${size(c.head)} | ${change(c)} |`);
    }
  }
  const packages = changedPackages(delta);
  out.push('', `Packages: ${countsLine(delta)}`);
  if (packages.length) {
    out.push('', '| package | version | base | head | change |', '|---|---|---:|---:|---:|');
    for (const p of packages.slice(0, top)) {
      const version = escapeMarkdown(versionNote(p));
      out.push(`| ${codeSpan(p.name)} | ${version} | ${size(p.base)} | ${size(p.head)} | ${change(p)} |`);
    }
    if (packages.length > top) out.push(`| … ${packages.length - top} more | | | | |`);
  }
  if (delta.flags.length) {
    const flag = (f: DeltaFlag) => {
      const where = f.package ? `${codeSpan(f.package)}, ` : '';
      return `- ⚠️ ${FLAG_LABELS[f.kind]}: ${codeSpan(f.name)} (${where}${formatBytes(f.bytes)})`;
    };
    out.push('', ...delta.flags.map(flag));
  }
  return out.join('\n') + '\n';
}

const size = (bytes: number | null) => (bytes === null ? '–' : formatBytes(bytes));
const pct = (c: SizeChange) => (formatChangePercent(c) ? ` (${formatChangePercent(c)})` : '');
const change = (c: ComponentDelta | PackageDelta) => `${formatSignedBytes(c.bytes)}${pct(c)}`;
