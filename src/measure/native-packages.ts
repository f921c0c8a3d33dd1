/**
 * The native packages the bundled handler imports (sharp), built for the function's OS and CPU. `package` installs
 * them itself with `npm install --os=linux --cpu=<cpu> --libc=glibc` into a cache folder, once per version and CPU,
 * so that packaging on macOS, or for arm64 on x86_64, gives a function that loads (docs/package.md, "The handler
 * bundle"). Installed into a temp folder beside the final one and renamed, like invoke/node-cache.ts does for Node.
 */
import { existsSync, readdirSync, lstatSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ArchiveEntry } from '../archive/archive-entry.js';
import { cleanStaleTemps, makeTempDirBeside } from '../lib/atomic-dir.js';
import { inputError, LambdaMlError } from '../lib/errors.js';
import { cacheRoot, npmInstall } from '../lib/npm-install.js';
import { nodeRule } from '../runtimes/prune-rules.js';
import { ONNX_RUNTIME, onnxRuntimeEntries } from './native-onnx.js';
import type { Architecture } from '../types.js';

/** npm's name for a Lambda architecture. */
export const NPM_CPU: Record<Architecture, 'x64' | 'arm64'> = { x86_64: 'x64', arm64: 'arm64' };

/** A native package and the platform packages an install for linux-<cpu> (glibc) must bring. */
interface NativeSpec {
  readonly name: string;
  readonly platform: (cpu: string) => readonly string[];
}

/** The native packages `package` can ship (scripts/build-handler.mjs EXTERNAL, as the bundle imports them). */
const NATIVE: readonly NativeSpec[] = [
  { name: 'sharp', platform: (cpu) => [`@img/sharp-linux-${cpu}`, `@img/sharp-libvips-linux-${cpu}`] },
];

export interface NativeOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Called once before an install starts (it downloads ~8 MB). */
  readonly onInstall?: (what: string) => void;
  readonly timeoutMs?: number;
}

/** One installed native package for one CPU: its cache folder (holding node_modules) and the pinned specs. */
export interface NativeInstall {
  readonly name: string;
  readonly version: string;
  readonly cpu: string;
  readonly dir: string;
  readonly specs: readonly string[];
}

const here = createRequire(import.meta.url);

/** The folder of `name` as resolved from `from` (a package's exports may hide its package.json). */
function packageDir(name: string, from: NodeRequire): string {
  const main = from.resolve(name);
  const marker = `node_modules/${name}`;
  return main.slice(0, main.lastIndexOf(marker) + marker.length);
}

const versionOf = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * `name@version` of the package and of each of its dependencies, as installed beside lambda-ml: the versions it was
 * built and tested with, pinned so that every machine ships the same bytes.
 */
export function pinnedSpecs(name: string): string[] {
  const dir = packageDir(name, here);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
  };
  const from = createRequire(join(dir, 'package.json'));
  const deps = Object.keys(manifest.dependencies ?? {})
    .sort()
    .map((dep) => `${dep}@${versionOf(packageDir(dep, from))}`);
  return [`${name}@${manifest.version}`, ...deps];
}

/** `<cache>/native/<name>@<version>-linux-<cpu>`. */
export const nativeDir = (env: NodeJS.ProcessEnv, name: string, version: string, cpu: string) =>
  join(cacheRoot(env), 'native', `${name}@${version}-linux-${cpu}`);

/** True when `dir` holds the package at `version` and every platform package it needs. */
function isComplete(dir: string, spec: NativeSpec, version: string, cpu: string): boolean {
  const modules = join(dir, 'node_modules');
  const own = join(modules, spec.name, 'package.json');
  if (!existsSync(own) || versionOf(join(modules, spec.name)) !== version) return false;
  return spec.platform(cpu).every((p) => existsSync(join(modules, p, 'package.json')));
}

/** The native package for `arch` from the cache, installing it on first use; one clear error when npm fails. */
export async function ensureNative(
  spec: NativeSpec,
  arch: Architecture,
  options: NativeOptions = {},
): Promise<NativeInstall> {
  const env = options.env ?? {};
  const cpu = NPM_CPU[arch];
  const specs = pinnedSpecs(spec.name);
  const version = specs[0].slice(spec.name.length + 1);
  const dir = nativeDir(env, spec.name, version, cpu);
  const result = { name: spec.name, version, cpu, dir, specs };
  if (isComplete(dir, spec, version, cpu)) return result;
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw inputError(
      `cannot create the cache folder ${parent} (${error.code})`,
      'set LAMBDA_ML_CACHE to a writable folder',
    );
  });
  await cleanStaleTemps(dir);
  options.onInstall?.(`installing ${spec.name}@${version} for linux-${cpu} into ${dir}, once`);
  // A temp folder beside the final one, renamed into place: a concurrent first use never sees half a tree.
  const temp = await makeTempDirBeside(dir);
  try {
    const flags = [`--os=linux`, `--cpu=${cpu}`, '--libc=glibc', '--prefer-offline'];
    await npmInstall(specs, temp, { env, timeoutMs: options.timeoutMs, flags }).catch((error: Error) => {
      throw inputError(
        `cannot install ${spec.name}@${version} for linux-${cpu}: ${error.message}`,
        'connect to the npm registry once (the packages are cached for later runs, offline too)',
      );
    });
    const missing = spec.platform(cpu).filter((p) => !existsSync(join(temp, 'node_modules', p, 'package.json')));
    if (missing.length > 0)
      throw inputError(
        `npm installed ${spec.name}@${version} for linux-${cpu} without ${missing.join(', ')}`,
        'use npm 10 or later (it installs other platforms with --os/--cpu/--libc)',
      );
    await rename(temp, dir).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      if (isComplete(dir, spec, version, cpu)) return; // another process won the race: its copy is the same
      await rm(dir, { recursive: true, force: true }); // a damaged copy: replace it
      await rename(temp, dir);
    });
    return result;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Where an installed file goes in the function zip: the package at node_modules/<name>/, everything it brought
 * (its platform packages and dependencies) nested under node_modules/<name>/node_modules/, so nothing collides with
 * the user's own packages and Node's resolution from inside the package finds exactly these.
 */
export function shippedPath(name: string, rel: string): string {
  return rel.startsWith(`${name}/`) ? `node_modules/${rel}` : `node_modules/${name}/node_modules/${rel}`;
}

/** The files of an installed native package (safe pruning rules applied: docs, types, tests), as archive entries. */
export function installEntries(install: NativeInstall): ArchiveEntry[] {
  const modules = join(install.dir, 'node_modules');
  const out: ArchiveEntry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(modules, rel)).sort()) {
      if (rel === '' && name.startsWith('.')) continue; // .bin links, npm's .package-lock.json
      const child = rel === '' ? name : `${rel}/${name}`;
      const stats = lstatSync(join(modules, child));
      if (stats.isDirectory()) walk(child);
      else if (stats.isFile() && nodeRule(innerPath(child)) === null)
        out.push({
          path: shippedPath(install.name, child),
          kind: 'file',
          source: join(modules, child),
          bytes: stats.size,
          executable: (stats.mode & 0o111) !== 0,
        });
    }
  };
  walk('');
  return out;
}

/** `@img/colour/index.js` -> `index.js`: a path inside its package folder, for the prune rules. */
const innerPath = (rel: string) =>
  rel
    .split('/')
    .slice(rel.startsWith('@') ? 2 : 1)
    .join('/');

/** The named native packages (the record's handlerNatives), installed for `arch`, as entries for function.zip. */
export async function nativeEntries(
  names: readonly string[],
  arch: Architecture,
  options: NativeOptions = {},
): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  for (const name of names) {
    // Its package holds every platform's build: the installed copy ships pruned, nothing is installed.
    if (name === ONNX_RUNTIME) {
      out.push(...onnxRuntimeEntries(arch));
      continue;
    }
    const spec = NATIVE.find((n) => n.name === name);
    if (!spec) throw new LambdaMlError('internal', `the handler imports ${name}, which package cannot ship yet`);
    out.push(...installEntries(await ensureNative(spec, arch, options)));
  }
  return out;
}
