/** What a layer provides, from its file list (SPEC §4: nodejs/node_modules, nodejs/nodeXX/node_modules, python/, python/lib/pythonX.Y/site-packages). */
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
    return (parts[0].startsWith('@') ? parts.length === 3 : parts.length === 2) && parts[parts.length - 1] === 'package.json';
  }
  const py = PYTHON_ROOT.exec(path);
  if (py) {
    const parts = path.slice(py[0].length).split('/');
    return parts.length === 2 && /\.(dist-info|egg-info)$/.test(parts[0]) && (parts[1] === 'top_level.txt' || parts[1] === 'METADATA');
  }
  return false;
}

/** Builds the provided-package list from every path in the layer and the metadata files' contents. */
export function providedPackages(paths: Iterable<string>, readMeta: (path: string) => string | undefined): ProvidedPackage[] {
  const out = new Map<string, ProvidedPackage>();
  const pythonModules = new Set<string>();
  const pythonDists: { dir: string; name: string; version: string; topLevel: string[] }[] = [];
  for (const path of paths) {
    const node = NODE_ROOT.exec(path);
    if (node) {
      const parts = path.slice(node[0].length).split('/');
      const depth = parts[0].startsWith('@') ? 2 : 1;
      if (parts.length <= depth || parts[0] === '.bin') continue;
      const name = parts.slice(0, depth).join('/');
      if (!out.has(`node:${name}`)) {
        const manifest = parseJson(readMeta(`${node[0]}${name}/package.json`));
        out.set(`node:${name}`, { name: typeof manifest?.name === 'string' ? manifest.name : name, version: typeof manifest?.version === 'string' ? manifest.version : null, kind: 'node', topLevel: [name] });
      }
      continue;
    }
    const py = PYTHON_ROOT.exec(path);
    if (!py || !path.startsWith('python/')) continue;
    const parts = path.slice(py[0].length).split('/');
    if (parts.length >= 2 && /\.(dist-info|egg-info)$/.test(parts[0])) {
      if (parts[1] === 'RECORD' || (parts[1] === 'top_level.txt' && !pythonDists.some((d) => d.dir === parts[0]))) {
        const parsed = parseDistInfoDir(parts[0]);
        const base = `${py[0]}${parts[0]}/`;
        if (parsed && !pythonDists.some((d) => d.dir === parts[0])) {
          const meta = readMeta(`${base}METADATA`);
          const topLevel = (readMeta(`${base}top_level.txt`) ?? '').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
          pythonDists.push({ dir: parts[0], name: (meta && /^Name:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.name, version: (meta && /^Version:\s*(.+)$/m.exec(meta)?.[1]?.trim()) || parsed.version, topLevel });
        }
      }
    } else if (parts.length >= 1 && parts[0]) {
      const top = parts.length === 1 ? parts[0].replace(/\.(py|pyc|so|pyd)$/, '').replace(/\.cpython.*$/, '') : parts[0];
      if (!top.includes('.') && top !== '__pycache__' && top !== 'bin') pythonModules.add(top);
    }
  }
  const claimed = new Set<string>();
  for (const dist of pythonDists) {
    dist.topLevel.forEach((t) => claimed.add(t));
    out.set(`python:${dist.name}`, { name: dist.name, version: dist.version, kind: 'python', topLevel: dist.topLevel });
  }
  for (const module of pythonModules) {
    if (!claimed.has(module)) out.set(`python:${module}`, { name: module, version: null, kind: 'python', topLevel: [module] });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
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
