/**
 * What a layer provides, from its file list (docs/design.md §4): nodejs/node_modules, nodejs/nodeNN/node_modules,
 * python/ and python/lib/pythonX.Y/site-packages for any NN and X.Y, so it reads a layer built for any runtime.
 */
import { posix } from 'node:path';
import type { ProvidedPackage } from '../types.js';
import { parseDistInfoDir } from './python-deps.js';

const NODE_ROOT = /^nodejs\/(?:node\d+\/)?node_modules\//;
const PYTHON_ROOT = /^python\/(?:lib\/python\d+\.\d+\/site-packages\/)?/;

/** Names of the small metadata files a provides-scan needs to read (package.json, top_level.txt, METADATA). */
export function isMetadataPath(path: string): boolean {
  const node = NODE_ROOT.exec(path);
  if (node) {
    const parts = path.slice(node[0].length).split('/');
    return (
      (parts[0].startsWith('@') ? parts.length === 3 : parts.length === 2) && parts[parts.length - 1] === 'package.json'
    );
  }
  const py = PYTHON_ROOT.exec(path);
  if (py) {
    const parts = path.slice(py[0].length).split('/');
    return (
      parts.length === 2 &&
      /\.(dist-info|egg-info)$/.test(parts[0]) &&
      (parts[1] === 'top_level.txt' || parts[1] === 'METADATA')
    );
  }
  return false;
}

/**
 * Builds the provided-package list from every path in the layer and the metadata files' contents. Each package keeps
 * the layer folder it sits in (`root`): which of them a function loads depends on its runtime (runtimes/table.ts).
 */
export function providedPackages(
  paths: Iterable<string>,
  readMeta: (path: string) => string | undefined,
): ProvidedPackage[] {
  const out = new Map<string, ProvidedPackage>();
  const pythonModules = new Map<string, { root: string; name: string }>();
  const pythonDists = new Map<string, { root: string; name: string; version: string; topLevel: string[] }>();
  for (const path of paths) {
    const node = NODE_ROOT.exec(path);
    if (node) {
      const parts = path.slice(node[0].length).split('/');
      const depth = parts[0].startsWith('@') ? 2 : 1;
      if (parts.length <= depth || parts[0] === '.bin') continue;
      const name = parts.slice(0, depth).join('/');
      const root = node[0].slice(0, -1);
      if (!out.has(`node:${root}:${name}`)) {
        const manifest = parseJson(readMeta(`${node[0]}${name}/package.json`));
        out.set(`node:${root}:${name}`, {
          name: typeof manifest?.name === 'string' ? manifest.name : name,
          version: typeof manifest?.version === 'string' ? manifest.version : null,
          kind: 'node',
          topLevel: [name],
          root,
        });
      }
      continue;
    }
    const py = PYTHON_ROOT.exec(path);
    if (!py || !path.startsWith('python/')) continue;
    const root = py[0].slice(0, -1);
    const parts = path.slice(py[0].length).split('/');
    if (parts.length >= 2 && /\.(dist-info|egg-info)$/.test(parts[0])) {
      const key = `${root}/${parts[0]}`;
      if ((parts[1] === 'RECORD' || parts[1] === 'top_level.txt') && !pythonDists.has(key)) {
        const parsed = parseDistInfoDir(parts[0]);
        const base = `${py[0]}${parts[0]}/`;
        if (parsed) {
          const meta = readMeta(`${base}METADATA`);
          const topLevel = (readMeta(`${base}top_level.txt`) ?? '')
            .split(/\r?\n/)
            .map((s) => s.trim())
            .filter(Boolean);
          const name = (meta && /^Name:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.name;
          const version = (meta && /^Version:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.version;
          pythonDists.set(key, { root, name, version, topLevel });
        }
      }
    } else if (parts.length >= 1 && parts[0]) {
      const top =
        parts.length === 1 ? parts[0].replace(/\.(py|pyc|so|pyd)$/, '').replace(/\.cpython.*$/, '') : parts[0];
      const isModule = !top.includes('.') && top !== '__pycache__' && top !== 'bin';
      if (isModule) pythonModules.set(`${root}/${top}`, { root, name: top });
    }
  }
  const claimed = new Set<string>();
  for (const dist of pythonDists.values()) {
    dist.topLevel.forEach((t) => claimed.add(`${dist.root}/${t}`));
    const { name, version, topLevel, root } = dist;
    out.set(`python:${root}:${name}`, { name, version, kind: 'python', topLevel, root });
  }
  for (const [key, module] of pythonModules) {
    if (claimed.has(key)) continue;
    const { name, root } = module;
    out.set(`python:${key}`, { name, version: null, kind: 'python', topLevel: [name], root });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || (a.root ?? '').localeCompare(b.root ?? ''));
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const layerPathDepth = (path: string) => posix.normalize(path).split('/').length;
