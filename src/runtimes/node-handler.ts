/**
 * The Node classifier handler `package` emits at the function root: the bundle scripts/build-handler.mjs writes
 * (docs/handler.md, "The bundle"): index.mjs with TF.js, the wasm backend and the S3 client inlined, the SIMD .wasm
 * beside it and the inlined packages' licences. Its native imports (sharp) ship from measure/native-packages.ts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaMlError } from '../lib/errors.js';
import { readManifestCached } from './manifest-cache.js';
import type { EmittedFile, HandlerDeps, HandlerProvided } from './record.js';

/**
 * The packages the handler is built from: inlined into the bundle, or (sharp, onnxruntime-node) shipped beside it
 * for the function's CPU. The starter project pins these.
 */
export const HANDLER_PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  'sharp',
  '@aws-sdk/client-s3',
  'onnxruntime-node',
] as const;

const here = dirname(fileURLToPath(import.meta.url));
/** dist/handler-bundle when running compiled; from src (tsx) the sibling dist/ of the repo. */
export const HANDLER_BUNDLE_DIR = existsSync(join(here, '..', 'handler-bundle', 'bundle.json'))
  ? join(here, '..', 'handler-bundle')
  : join(here, '..', '..', 'dist', 'handler-bundle');

/** dist/handler-bundle/bundle.json, written by the build with the bundle. */
export interface BundleInfo {
  readonly entry: string;
  readonly minified: boolean;
  /** What ships at the function root, each with its size and sha256. */
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
  /** Packages the bundle imports by name at run time (native), with the versions installed beside lambda-ml. */
  readonly native: readonly { readonly name: string; readonly version: string }[];
  /** The packages our sources import: the roots of what is inlined, and the native ones. */
  readonly imports: readonly string[];
  /** Every package with code in the bundle. */
  readonly packages: readonly { readonly name: string; readonly version: string }[];
  /** Packages replaced by a stub (nothing of theirs can run in Node). */
  readonly stubbed: readonly string[];
}

const missing = (what: string) =>
  new LambdaMlError('internal', `the handler bundle is ${what} (${HANDLER_BUNDLE_DIR})`, 'run `npm run build`');

/** Reads bundle.json; the build must have run. */
export function readBundleInfo(dir = HANDLER_BUNDLE_DIR): BundleInfo {
  const file = join(dir, 'bundle.json');
  if (!existsSync(file)) throw missing('missing');
  return JSON.parse(readFileSync(file, 'utf8')) as BundleInfo;
}

/** The bundle's files at the function root (index.mjs is the handler `index.handler`); a stale build is refused. */
export function nodeHandlerFiles(): EmittedFile[] {
  const info = readBundleInfo();
  return info.files.map(({ name, bytes }) => {
    const source = join(HANDLER_BUNDLE_DIR, name);
    if (!existsSync(source) || statSync(source).size !== bytes) throw missing(`incomplete: ${name} differs`);
    return { path: name, kind: 'file', source, bytes };
  });
}

/**
 * The deps packages the bundle makes redundant: everything reachable (dependencies, optional and peer) from the
 * packages the handler imports, minus whatever another package that stays still needs, so a user's own package
 * (e.g. @tensorflow/tfjs-node, which requires @tensorflow/tfjs) keeps what it resolves.
 */
export function handlerProvided(
  deps: HandlerDeps,
  bundle: Pick<BundleInfo, 'imports' | 'packages' | 'native'>,
): HandlerProvided[] {
  if (deps.root === null) return [];
  const root = deps.root;
  const byPath = new Map(deps.packages.map((p) => [p.path, p]));
  // Node's lookup from a package folder: its own node_modules, then each enclosing node_modules up to the top.
  const resolveFrom = (from: string, name: string): string | null => {
    for (let base = from; ;) {
      const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
      if (byPath.has(candidate)) return candidate;
      if (base === '') return null;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut < 0 ? '' : base.slice(0, cut);
    }
  };
  const requires = (path: string) => {
    const manifest = readManifestCached(join(root, path, 'package.json')) ?? {};
    const names = ['dependencies', 'optionalDependencies', 'peerDependencies'].flatMap((field) => {
      const value = manifest[field];
      return value && typeof value === 'object' ? Object.keys(value) : [];
    });
    return names.map((name) => resolveFrom(path, name)).filter((p): p is string => p !== null);
  };
  // A native package is replaced in place (package ships its own node_modules/<name>, with its own dependencies
  // nested, for the CPU): always ours, and what the user's copy required is not needed through it.
  const replaced = new Set(bundle.native.map((n) => resolveFrom('', n.name)));
  const closure = (starts: readonly string[], through: (path: string) => boolean = () => true) => {
    const seen = new Set<string>();
    const todo = [...starts];
    for (let path = todo.pop(); path !== undefined; path = todo.pop()) {
      if (seen.has(path)) continue;
      seen.add(path);
      if (through(path)) todo.push(...requires(path));
    }
    return seen;
  };
  const starts = bundle.imports.map((name) => resolveFrom('', name)).filter((p): p is string => p !== null);
  const reached = closure(starts);
  const inside = (path: string) => [...reached].some((p) => path.startsWith(`${p}/`));
  const others = deps.packages.filter((p) => !reached.has(p.path) && !inside(p.path));
  const needed = closure(
    others.flatMap((p) => requires(p.path)),
    (path) => !replaced.has(path),
  );
  const versions = new Map<string, string[]>();
  for (const p of [...bundle.packages, ...bundle.native])
    versions.set(p.name, [...(versions.get(p.name) ?? []), p.version]);
  return [...reached]
    .filter((path) => replaced.has(path) || !needed.has(path))
    .sort()
    .map((path) => {
      const { name, version } = byPath.get(path)!;
      const ours = versions.get(name) ?? [];
      return { path, name, version: ours.includes(version) ? version : (ours[0] ?? null) };
    });
}
