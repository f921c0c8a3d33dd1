/**
 * `budget --html FILE` (docs/report.md): one self-contained HTML file. Scripts and styles are inlined (d3-hierarchy's
 * treemap layout, read from node_modules at render time), a Content-Security-Policy forbids any network access, and
 * every string from the data is escaped (HTML text) or serialised as JSON with `<` escaped.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BudgetDocument } from './budget-document.js';
import { DEFAULT_WARN_AT_PERCENT } from './checks.js';
import type { BudgetDelta, PackageDelta } from './delta.js';
import { formatChangePercent, formatSignedBytes } from './delta-render.js';
import { CLIENT_JS, FATE_COLOURS, VIEW_DEPTH } from './html-client.js';
import {
  barsSection,
  componentsSection,
  deltaSection,
  escapeHtml,
  filesSection,
  headerSection,
  planSection,
} from './html-sections.js';
import { REPORT_CSS } from './html-style.js';
import type { LargestFile } from './largest-files.js';
import type { NodeKind, ReportNode } from './tree.js';

export { escapeHtml } from './html-sections.js';

export interface HtmlReport {
  readonly budget: BudgetDocument;
  readonly tree: ReportNode;
  readonly delta?: BudgetDelta | null;
  readonly files?: readonly LargestFile[];
  /** Shown in the title: the function's name. */
  readonly name?: string;
  readonly warnAtPercent?: number;
  /** The treemap library's source; read from d3-hierarchy's dist when absent. */
  readonly d3Source?: string;
}

const KINDS: readonly NodeKind[] = ['root', 'artifact', 'package', 'folder', 'file', 'more'];
/** Nothing but the inlined script and styles; no request of any kind (the report opens offline, from an artifact). */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";
const FATES = Object.keys(FATE_COLOURS);

/** The whole report as one HTML document. */
export function renderHtml(report: HtmlReport): string {
  const { budget } = report;
  const warnAt = report.warnAtPercent ?? budget.warnAtPercent ?? DEFAULT_WARN_AT_PERCENT;
  const d3 = report.d3Source ?? readD3Hierarchy();
  if (/<\/script/i.test(d3)) throw new Error('d3-hierarchy source holds "</script": it cannot be inlined');
  const limits = new Map(budget.checks.map((c) => [c.limit as string, c.max]));
  const changed: Record<string, string> = {};
  for (const p of report.delta?.packages ?? []) if (p.status !== 'unchanged') changed[p.name] = describeChange(p);
  const data = {
    tree: packNode(report.tree, null),
    kinds: KINDS,
    fates: FATES,
    colours: FATE_COLOURS,
    viewDepth: VIEW_DEPTH,
    limits: { unzipped: limits.get('unzipped') ?? null, tmp: limits.get('tmp') ?? null },
    changed,
  };
  const title = `lambda-ml budget${report.name ? ` · ${report.name}` : ''}`;
  const swatch = (f: string) => `hsl(${FATE_COLOURS[f][0]},${FATE_COLOURS[f][1]}%,46%)`;
  const legend = FATES.map((f) => `<span style="--c:${swatch(f)}">${escapeHtml(f)}</span>`).join('');
  const changedKey = '<span style="--c:#fff;outline:2px dashed #cf222e">changed against the base</span>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${headerSection(budget, report.name, warnAt)}
${barsSection(budget.checks, warnAt)}
${planSection(budget)}
${report.files && report.files.length ? filesSection(report.files, limits) : ''}
${componentsSection(budget)}
${report.delta ? deltaSection(report.delta) : ''}
<section id="treemap-section" class="screen-only">
<h2>Treemap of the unzipped bytes</h2>
<p class="note">Click a box to zoom in, the path above it to zoom out (or Escape).
Hover for the size, version and share of the limit.</p>
<div class="legend">${legend}${report.delta ? changedKey : ''}</div>
<nav id="crumbs" aria-label="Zoom"></nav>
<div id="treemap"></div>
<div id="tip" role="tooltip"></div>
</section>
<p class="print-only note">The zoomable treemap is in this file: open it in a browser.</p>
<script>${d3}</script>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}

/** The tree in short keys; fate and limit only where they change (on artifacts), files only when not 1. */
interface Packed {
  n: string;
  b: number;
  k?: number;
  f?: number;
  t?: number;
  l?: string | null;
  v?: string;
  p?: string;
  o?: string;
  c?: Packed[];
}

function packNode(node: ReportNode, parent: ReportNode | null): Packed {
  const packed: Packed = { n: node.name, b: node.bytes };
  if (node.kind !== 'file') packed.k = KINDS.indexOf(node.kind);
  if (node.files !== 1) packed.f = node.files;
  if (!parent || node.fate !== parent.fate) packed.t = node.fate === null ? -1 : FATES.indexOf(node.fate);
  if (!parent || node.limit !== parent.limit) packed.l = node.limit;
  if (node.version) packed.v = node.version;
  if (node.package) packed.p = node.package;
  if (node.note) packed.o = node.note;
  if (node.children && node.children.length) packed.c = node.children.map((c) => packNode(c, node));
  return packed;
}

/** JSON that is safe inside <script>: no "</script>", no "<!--". */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function describeChange(p: PackageDelta): string {
  const pct = formatChangePercent(p);
  return `${p.status} ${formatSignedBytes(p.bytes)}${pct && p.status !== 'added' ? ` (${pct})` : ''}`;
}

/** d3-hierarchy's UMD build (it defines the global `d3`), as installed beside lambda-ml. */
export function readD3Hierarchy(): string {
  const require = createRequire(import.meta.url);
  // The package's exports map has no "./dist/..." entry: find its folder through package.json's main.
  const main = require.resolve('d3-hierarchy');
  let dir = dirname(main);
  while (!/[\\/]d3-hierarchy$/.test(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return readFileSync(join(dir, 'dist', 'd3-hierarchy.min.js'), 'utf8');
}
