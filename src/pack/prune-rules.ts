/** Safe pruning rules (docs/design.md §6): what is never loaded at run time. Licence files are never removed. PURE. */

export type PruneRule = 'docs' | 'tests' | 'examples' | 'types' | 'sourcemaps' | 'browser' | 'pycache';

const LICENCE = /(^|\/)(licen[cs]e|copying|notice|authors|patents)([.-][^/]*)?$/i;
const DOCS =
  /(^|\/)(readme|changelog|changes|history|contributing|code_of_conduct|security|upgrading|migrat\w*)([.-][^/]*)?$|\.(md|markdown|mdx|rst)$|(^|\/)(docs?|man)\//i;
const TESTS_NODE =
  /(^|\/)(tests?|__tests__|spec|__mocks__|\.github|coverage|benchmarks?)\/|\.(test|spec)\.[cm]?[jt]sx?$/i;
const TESTS_PY = /(^|\/)(tests?)\//;
const EXAMPLES = /(^|\/)(examples?|demos?|samples?)\//i;
const TYPES = /\.d\.[cm]?ts(\.map)?$|\.pyi$|(^|\/)py\.typed$|\.tsbuildinfo$|(^|\/)tsconfig[^/]*\.json$/;
const SOURCEMAPS = /\.(js|mjs|cjs|css)\.map$/;
const BROWSER = /(^|\/)(umd|browser|bundles?)\/|\.umd(\.min)?\.[cm]?js$|\.es20\d\d\.[cm]?js$|\.min\.[cm]?js$/;

// Two unions (one per case sensitivity) reject the common file with two regex runs instead of eight.
const ANY_NODE_CS = new RegExp([TYPES, SOURCEMAPS, BROWSER].map((r) => `(?:${r.source})`).join('|'));
const ANY_NODE_CI = new RegExp([DOCS, TESTS_NODE, EXAMPLES].map((r) => `(?:${r.source})`).join('|'), 'i');

/** The rule that removes `path` (relative to its package folder), or null to keep it. */
export function ruleFor(path: string, kind: 'node' | 'python'): PruneRule | null {
  if (kind === 'node' && !ANY_NODE_CS.test(path) && !ANY_NODE_CI.test(path)) return null;
  if (LICENCE.test(path)) return null;
  if (kind === 'python') {
    if (/(^|\/)__pycache__\/|\.py[co]$/.test(path)) return 'pycache';
    if (TYPES.test(path)) return 'types';
    if (/\.(md|rst)$/i.test(path)) return 'docs';
    if (TESTS_PY.test(path) && !/\.dist-info\//.test(path)) return 'tests';
    return null;
  }
  if (/(^|\/)package\.json$/.test(path)) return null;
  if (TYPES.test(path)) return 'types';
  if (SOURCEMAPS.test(path)) return 'sourcemaps';
  if (DOCS.test(path)) return 'docs';
  if (TESTS_NODE.test(path)) return 'tests';
  if (EXAMPLES.test(path)) return 'examples';
  if (BROWSER.test(path)) return 'browser';
  return null;
}

/**
 * Every file path a package.json names as an entry point (main, module, browser-free exports leaves, bin, explicit
 * files).
 */
export function protectedPaths(manifest: Record<string, unknown>): { exact: Set<string>; patterns: RegExp[] } {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  const add = (value: unknown) => {
    if (typeof value !== 'string') return;
    const clean = value.replace(/^\.\//, '');
    if (clean.includes('*')) patterns.push(new RegExp(`^${clean.split('*').map(escape).join('.*')}$`));
    else {
      exact.add(clean);
      for (const ext of ['.js', '.json', '.node', '.cjs', '.mjs', '/index.js', '/index.json'])
        exact.add(clean.replace(/\/$/, '') + ext);
    }
  };
  add(manifest.main ?? 'index.js');
  add(manifest.module);
  const walk = (node: unknown) => {
    if (typeof node === 'string') add(node);
    else if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') Object.values(node).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.bin);
  if (Array.isArray(manifest.files))
    for (const f of manifest.files) if (typeof f === 'string' && /\.[a-z]+$/i.test(f) && !f.includes('*')) add(f);
  return { exact, patterns };
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
