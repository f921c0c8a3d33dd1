/**
 * onnxruntime-node for the function (docs/handler.md, "Choosing a backend"). Its npm package holds every platform's
 * build (bin/napi-v<N>/<os>/<cpu>/, 288 MB), so nothing is installed: the copy beside lambda-ml (the version it was
 * built and tested with) ships pruned to bin/napi-v<N>/linux/<cpu>/, without the CUDA and TensorRT providers its
 * postinstall may have downloaded, its TypeScript sources and install scripts. onnxruntime-common (its one run-time
 * dependency) nests under it; adm-zip and global-agent serve only the postinstall and stay out. Shipped only when
 * some model runs on onnx.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ArchiveEntry } from '../archive/archive-entry.js';
import { inputError } from '../lib/errors.js';
import { nodeRule } from '../runtimes/prune-rules.js';
import type { Architecture, ModelScan } from '../types.js';

/** The package name the handler bundle imports for the onnx backend. */
export const ONNX_RUNTIME = 'onnxruntime-node';
const COMMON = 'onnxruntime-common';

/**
 * The newest glibc symbol version libonnxruntime.so.1 (1.30.0, linux x64 and arm64) needs: Amazon Linux 2 (2.26)
 * cannot load it, Amazon Linux 2023 (2.34) can. test/integration/onnx-backend-files.test.ts reads it from the ELF.
 */
export const ONNX_RUNTIME_GLIBC: readonly [number, number] = [2, 28];

/** Node's `process.arch` for a Lambda architecture (the binding's folder: bin/napi-v6/linux/x64). */
const ARCH_DIR: Record<Architecture, string> = { x86_64: 'x64', arm64: 'arm64' };

/**
 * Execution providers beside libonnxruntime.so.1 (cuda, tensorrt and the shared library they need): GPU-only, and
 * what the postinstall downloads for linux/x64 unless told onnxruntime-node-install=skip. Never shipped.
 */
const isGpuProvider = (rel: string) => /(^|\/)libonnxruntime_providers_[^/]*\.so(\.\d+)*$/.test(rel);

/** The natives the function needs: the bundle's, without onnxruntime-node when no model runs on onnx. */
export function nativesFor(names: readonly string[], models: readonly Pick<ModelScan, 'backend'>[]): string[] {
  const onOnnx = models.some((m) => m.backend === 'onnx');
  return names.filter((name) => name !== ONNX_RUNTIME || onOnnx);
}

/** Keeps a path inside onnxruntime-node (relative to its folder) for linux/<cpu>. */
export function keepOnnxFile(rel: string, arch: Architecture): boolean {
  if (rel.startsWith('lib/') || rel.startsWith('script/')) return false; // TypeScript sources, postinstall
  const bin = /^bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(rel);
  if (rel.startsWith('bin/')) return bin !== null && bin[1] === 'linux' && bin[2] === ARCH_DIR[arch];
  return true;
}

const here = createRequire(import.meta.url);

function packageDir(name: string, from: NodeRequire): string {
  const main = from.resolve(name);
  const marker = `node_modules/${name}`;
  return main.slice(0, main.lastIndexOf(marker) + marker.length);
}

/** Every regular file under `dir`, relative, sorted. */
function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const child = rel === '' ? name : `${rel}/${name}`;
    const stats = lstatSync(join(dir, child));
    if (stats.isDirectory()) out.push(...filesUnder(dir, child));
    else if (stats.isFile()) out.push(child);
  }
  return out;
}

function entry(source: string, path: string): ArchiveEntry {
  const stats = lstatSync(source);
  return { path, kind: 'file', source, bytes: stats.size, executable: (stats.mode & 0o111) !== 0 };
}

/** onnxruntime-node (and onnxruntime-common inside it) for linux-<cpu>, as function.zip entries. */
export function onnxRuntimeEntries(arch: Architecture): ArchiveEntry[] {
  let dir: string;
  try {
    dir = packageDir(ONNX_RUNTIME, here);
  } catch (error) {
    throw inputError(`cannot find ${ONNX_RUNTIME} next to lambda-ml`, 'reinstall lambda-ml (npm ci)', error);
  }
  const binding = filesUnder(dir).filter((rel) => keepOnnxFile(rel, arch) && rel.startsWith('bin/'));
  if (!binding.some((rel) => rel.endsWith('.node'))) {
    throw inputError(
      `${ONNX_RUNTIME} beside lambda-ml has no linux-${ARCH_DIR[arch]} build (${dir}/bin)`,
      `reinstall it (npm ci), or use "backend": "wasm"`,
    );
  }
  const common = packageDir(COMMON, createRequire(join(dir, 'package.json')));
  const own = filesUnder(dir)
    .filter((rel) => keepOnnxFile(rel, arch) && !isGpuProvider(rel) && nodeRule(rel) === null)
    .map((rel) => entry(join(dir, rel), `node_modules/${ONNX_RUNTIME}/${rel}`));
  const nested = filesUnder(common)
    .filter((rel) => !rel.startsWith('lib/') && nodeRule(rel) === null)
    .map((rel) => entry(join(common, rel), `node_modules/${ONNX_RUNTIME}/node_modules/${COMMON}/${rel}`));
  return [...own, ...nested];
}
