/** Node packages in a layer: nodejs/node_modules and nodejs/nodeNN/node_modules (docs/design.md §4). */
import type { ProvidedPackage } from '../types.js';
import type { LambdaRuntime } from './table.js';

/** A path inside a Node layer folder, for any Node major. */
export const NODE_LAYER_ROOT = /^nodejs\/(?:node\d+\/)?node_modules\//;

/** The folders a Node runtime loads layer packages from, in lookup order (AWS "packaging-layers-paths"). */
export const nodeLayerRoots = (runtime: LambdaRuntime): string[] => [
  `nodejs/node${runtime.major}/node_modules`,
  'nodejs/node_modules',
];

/** A package's own package.json: `<name>/package.json` or `@scope/<name>/package.json`. */
export const isNodeMetadata = (rest: readonly string[]): boolean =>
  (rest[0].startsWith('@') ? rest.length === 3 : rest.length === 2) && rest[rest.length - 1] === 'package.json';

/** Every package folder under a Node layer folder, named and versioned by its package.json when there is one. */
export function nodeProvided(
  paths: readonly { readonly root: string; readonly rest: readonly string[] }[],
  readMeta: (path: string) => string | undefined,
): ProvidedPackage[] {
  const out = new Map<string, ProvidedPackage>();
  for (const { root, rest } of paths) {
    const depth = rest[0].startsWith('@') ? 2 : 1;
    if (rest.length <= depth || rest[0] === '.bin') continue;
    const name = rest.slice(0, depth).join('/');
    if (out.has(`${root}:${name}`)) continue;
    const manifest = parseJson(readMeta(`${root}/${name}/package.json`));
    out.set(`${root}:${name}`, {
      name: typeof manifest?.name === 'string' ? manifest.name : name,
      version: typeof manifest?.version === 'string' ? manifest.version : null,
      kind: 'node',
      topLevel: [name],
      root,
    });
  }
  return [...out.values()];
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
