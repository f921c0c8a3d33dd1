/** Safe pruning rules (docs/design.md §6): what is never loaded at run time. Licence files are never removed. */
import type { FileEntry } from '../types.js';
import { readManifestCached } from './manifest-cache.js';

export type PruneRule = 'docs' | 'tests' | 'examples' | 'types' | 'sourcemaps' | 'browser' | 'pycache';

const LICENCE = /(^|\/)(licen[cs]e|copying|notice|authors|patents)([.-][^/]*)?$/i;
const DOCS = new RegExp(
  [
    String.raw`(^|\/)(readme|changelog|changes|history|contributing|code_of_conduct|security|upgrading|`,
    String.raw`migrat\w*)([.-][^/]*)?$|\.(md|markdown|mdx|rst)$|(^|\/)(docs?|man)\/`,
  ].join(''),
  'i',
);
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

/** Node: the rule that removes `path` (relative to its package folder), or null to keep it. */
export function nodeRule(path: string): PruneRule | null {
  if (!ANY_NODE_CS.test(path) && !ANY_NODE_CI.test(path)) return null;
  if (LICENCE.test(path)) return null;
  if (/(^|\/)package\.json$/.test(path)) return null;
  if (TYPES.test(path)) return 'types';
  if (SOURCEMAPS.test(path)) return 'sourcemaps';
  if (DOCS.test(path)) return 'docs';
  if (TESTS_NODE.test(path)) return 'tests';
  if (EXAMPLES.test(path)) return 'examples';
  if (BROWSER.test(path)) return 'browser';
  return null;
}

/** Python: the rule that removes `path` (relative to site-packages), or null to keep it. */
export function pythonRule(path: string): PruneRule | null {
  if (LICENCE.test(path)) return null;
  if (/(^|\/)__pycache__\/|\.py[co]$/.test(path)) return 'pycache';
  if (TYPES.test(path)) return 'types';
  if (/\.(md|rst)$/i.test(path)) return 'docs';
  if (TESTS_PY.test(path) && !/\.dist-info\//.test(path)) return 'tests';
  return null;
}

/**
 * Node's rules over one node_modules tree: paths relative to their package folder, and entry points named by
 * package.json (main/exports/bin/files) always kept.
 */
export function nodePruner(root: string | null): (entry: FileEntry) => PruneRule | null {
  const guards = new Map<string, ReturnType<typeof protectedPaths> | null>();
  const isProtected = (pkgDir: string, inner: string) => {
    if (!guards.has(pkgDir)) {
      const manifest = readManifestCached(`${root}/${pkgDir}/package.json`);
      guards.set(pkgDir, manifest ? protectedPaths(manifest) : null);
    }
    const guard = guards.get(pkgDir);
    return guard ? guard.exact.has(inner) || guard.patterns.some((p) => p.test(inner)) : false;
  };
  return (entry) => {
    const pkgDir = entry.owner;
    const inner = pkgDir ? entry.path.slice(pkgDir.length + 1) : entry.path;
    const rule = nodeRule(inner);
    return rule && root !== null && pkgDir !== null && isProtected(pkgDir, inner) ? null : rule;
  };
}

/** Python's rules over one site-packages tree: a .pyc whose source is absent is the module itself (kept). */
export function pythonPruner(entries: readonly FileEntry[]): (entry: FileEntry) => PruneRule | null {
  const files = new Set(entries.map((e) => e.path));
  return (entry) => {
    const rule = pythonRule(entry.path);
    return rule === 'pycache' && !hasSource(entry.path, files) ? null : rule;
  };
}

function hasSource(pycPath: string, files: ReadonlySet<string>): boolean {
  // pkg/__pycache__/mod.cpython-36.pyc -> pkg/mod.py ; pkg/mod.pyc -> pkg/mod.py
  const m = /^(.*?)(?:__pycache__\/)?([^/]+?)(?:\.cpython-\d+|\.pypy\d*)?(?:\.opt-\d)?\.py[co]$/.exec(pycPath);
  return m ? files.has(`${m[1]}${m[2]}.py`) : true;
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
