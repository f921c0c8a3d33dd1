/** How a starter project depends on lambda-ml: the running CLI's own copy (docs/design.md, `init`). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The running CLI's package folder: the nearest folder above this module whose package.json is lambda-ml's. */
export function cliRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'lambda-ml') return dir;
    if (dirname(dir) === dir) throw new Error(`no lambda-ml package.json above ${from}`);
  }
}

/** A copy installed by npm from the registry sits inside a node_modules folder; a clone or a link does not. */
export const isInstalledFromRegistry = (root: string) => root.split(sep).includes('node_modules');

/**
 * The devDependency spec: the CLI's own version when it came from the registry, else `file:` its own folder
 * (absolute), which npm links, so the starter runs exactly the lambda-ml that wrote it.
 */
export function lambdaMlSpec(root = cliRoot()): string {
  if (!isInstalledFromRegistry(root)) return `file:${root}`;
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}
