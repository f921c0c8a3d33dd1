/**
 * Loads CommonJS packages from explicit folders: ESM `import` ignores NODE_PATH, so sideloaded and layer packages go
 * through this.
 */
import Module, { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** A require that tries several node_modules roots in order. */
export interface RequireFrom {
  <T = unknown>(id: string): T;
  resolve(id: string): string;
  readonly roots: readonly string[];
}

/**
 * `roots` are folders whose `node_modules` (or which, when named node_modules, themselves) hold packages,
 * e.g. [/tmp/lambda-ml/<sha>, /opt/nodejs/node_modules, /var/task]. The first root that resolves `id` wins.
 */
export function requireFrom(roots: readonly string[]): RequireFrom {
  const requires = roots.map((root) => createRequire(join(root, '__lambda_ml__.js')));
  const find = (id: string) => {
    let first: unknown;
    for (const req of requires) {
      try {
        return { req, path: req.resolve(id) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
        first ??= error;
      }
    }
    const err = new Error(`cannot find package "${id}" in ${roots.join(', ')}`, { cause: first }) as Error & {
      code: string;
    };
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  };
  const load = (<T>(id: string): T => {
    const { req, path } = find(id);
    return req(path) as T;
  }) as RequireFrom;
  load.resolve = (id: string) => find(id).path;
  Object.defineProperty(load, 'roots', { value: [...roots] });
  return load;
}

/**
 * Puts node_modules folders in front of NODE_PATH for the CommonJS loader, so a package required from a layer
 * can find one that was sideloaded (and the other way round). Node reads NODE_PATH once; _initPaths re-reads it.
 */
export function prependNodePath(dirs: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const current = (env.NODE_PATH ?? '').split(delimiter).filter(Boolean);
  env.NODE_PATH = [...dirs.filter((d) => !current.includes(d)), ...current].join(delimiter);
  (Module as unknown as { _initPaths?: () => void })._initPaths?.();
}
