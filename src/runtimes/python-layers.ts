/** Python packages in a layer: python/ and python/lib/pythonX.Y/site-packages (docs/design.md §4). */
import type { ProvidedPackage } from '../types.js';
import { parseDistInfoDir } from './python-deps.js';
import type { LambdaRuntime } from './table.js';

/** A path inside a Python layer folder, for any Python version. */
export const PYTHON_LAYER_ROOT = /^python\/(?:lib\/python\d+\.\d+\/site-packages\/)?/;

/** The folders a Python runtime imports layer packages from, in lookup order (AWS "packaging-layers-paths"). */
export const pythonLayerRoots = (runtime: LambdaRuntime): string[] => [
  `python/lib/python${runtime.version}/site-packages`,
  'python',
];

/** A distribution's top_level.txt or METADATA. */
export const isPythonMetadata = (rest: readonly string[]): boolean =>
  rest.length === 2 &&
  /\.(dist-info|egg-info)$/.test(rest[0]) &&
  (rest[1] === 'top_level.txt' || rest[1] === 'METADATA');

/** Distributions (dist-info with RECORD or top_level.txt), then top-level modules no distribution claims. */
export function pythonProvided(
  paths: readonly { readonly root: string; readonly rest: readonly string[] }[],
  readMeta: (path: string) => string | undefined,
): ProvidedPackage[] {
  const modules = new Map<string, { root: string; name: string }>();
  const dists = new Map<string, { root: string; name: string; version: string; topLevel: string[] }>();
  for (const { root, rest: parts } of paths) {
    if (parts.length >= 2 && /\.(dist-info|egg-info)$/.test(parts[0])) {
      const key = `${root}/${parts[0]}`;
      if ((parts[1] === 'RECORD' || parts[1] === 'top_level.txt') && !dists.has(key)) {
        const parsed = parseDistInfoDir(parts[0]);
        const base = `${root}/${parts[0]}/`;
        if (parsed) {
          const meta = readMeta(`${base}METADATA`);
          const topLevel = (readMeta(`${base}top_level.txt`) ?? '')
            .split(/\r?\n/)
            .map((s) => s.trim())
            .filter(Boolean);
          const name = (meta && /^Name:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.name;
          const version = (meta && /^Version:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.version;
          dists.set(key, { root, name, version, topLevel });
        }
      }
    } else if (parts.length >= 1 && parts[0]) {
      const top =
        parts.length === 1 ? parts[0].replace(/\.(py|pyc|so|pyd)$/, '').replace(/\.cpython.*$/, '') : parts[0];
      const isModule = !top.includes('.') && top !== '__pycache__' && top !== 'bin';
      if (isModule) modules.set(`${root}/${top}`, { root, name: top });
    }
  }
  const out = new Map<string, ProvidedPackage>(); // two dist-infos of one name in one folder: the last one counts
  const claimed = new Set<string>();
  for (const { name, version, topLevel, root } of dists.values()) {
    topLevel.forEach((t) => claimed.add(`${root}/${t}`));
    out.set(`dist:${root}:${name}`, { name, version, kind: 'python', topLevel, root });
  }
  for (const [key, { name, root }] of modules) {
    if (!claimed.has(key)) out.set(`module:${key}`, { name, version: null, kind: 'python', topLevel: [name], root });
  }
  return [...out.values()];
}
