/**
 * Real test assets from npm: the nsfwjs@4 models (unpacked from their UMD bundles), its class names, and the baboon
 * photo.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';

export type NsfwjsVariant = 'mobilenet_v2' | 'mobilenet_v2_mid';

/** What unpackNsfwjsModel wrote. */
export interface UnpackedModel {
  readonly dir: string;
  readonly modelJson: string;
  readonly shards: readonly string[];
  readonly bytes: number; // decoded shard bytes
  readonly format: 'layers-model' | 'graph-model';
}

const require = createRequire(import.meta.url);

/** The nsfwjs package folder. Its `exports` map hides package.json, so fall back to walking up from its main file. */
export function nsfwjsRoot(): string {
  try {
    return dirname(require.resolve('nsfwjs/package.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
    const main = require.resolve('nsfwjs'); // .../nsfwjs/dist/cjs/index.js (resolved, not executed)
    const marker = `${join('node_modules', 'nsfwjs')}`;
    return main.slice(0, main.lastIndexOf(marker) + marker.length);
  }
}

/** Runs a browserify UMD bundle in an empty sandbox (no require, no process) and returns what it exports. */
function evalUmd(source: string, file: string): unknown {
  const sandbox = { module: { exports: {} as unknown }, exports: {} };
  sandbox.module.exports = sandbox.exports;
  runInNewContext(source, sandbox, { filename: file, timeout: 10_000 });
  return sandbox.module.exports;
}

interface PackedModel {
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  format?: string;
  [key: string]: unknown;
}

/**
 * Unpacks `dist/models/<variant>` of nsfwjs into `outDir` as a TF.js model folder (model.json + .bin shards). Atomic
 * and idempotent.
 */
export async function unpackNsfwjsModel(
  outDir: string,
  variant: NsfwjsVariant = 'mobilenet_v2',
): Promise<UnpackedModel> {
  const src = join(nsfwjsRoot(), 'dist', 'models', variant);
  const packed = evalUmd(await readFile(join(src, 'model.min.js'), 'utf8'), 'model.min.js') as PackedModel;
  const isGraph = 'node' in packed.modelTopology;
  const format = isGraph ? 'graph-model' : 'layers-model';
  const modelJson = join(outDir, 'model.json');
  const shardNames = packed.weightsManifest.flatMap((group) => group.paths.map((p) => `${p}.bin`));
  const existing = await readExisting(outDir, shardNames);
  if (existing !== null)
    return { dir: outDir, modelJson, shards: shardNames.map((n) => join(outDir, n)), bytes: existing, format };

  const tmp = `${outDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  try {
    let bytes = 0;
    for (const name of shardNames) {
      const js = await readFile(join(src, `${name.slice(0, -4)}.min.js`), 'utf8');
      const b64 = evalUmd(js, name);
      if (typeof b64 !== 'string') throw new Error(`nsfwjs ${variant}/${name}: expected one base64 string`);
      const data = Buffer.from(b64, 'base64');
      bytes += data.length;
      await writeFile(join(tmp, name), data);
    }
    const { modelTopology, weightsManifest, ...rest } = packed;
    const json = {
      ...rest,
      format,
      generatedBy: rest.generatedBy ?? 'nsfwjs@4 (unpacked by lambda-ml)',
      modelTopology,
      weightsManifest: weightsManifest.map((g) => ({ ...g, paths: g.paths.map((p) => `${p}.bin`) })),
    };
    await writeFile(join(tmp, 'model.json'), JSON.stringify(json));
    await rm(outDir, { recursive: true, force: true });
    await mkdir(dirname(outDir), { recursive: true });
    try {
      await rename(tmp, outDir);
    } catch (error) {
      // Another process finished first: theirs is identical.
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    return { dir: outDir, modelJson, shards: shardNames.map((n) => join(outDir, n)), bytes, format };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function readExisting(dir: string, shards: readonly string[]): Promise<number | null> {
  try {
    const names = new Set(await readdir(dir));
    if (!names.has('model.json') || !shards.every((s) => names.has(s))) return null;
    let bytes = 0;
    for (const s of shards) bytes += (await stat(join(dir, s))).size;
    return bytes;
  } catch {
    return null;
  }
}

/** The 5 nsfwjs class names in index order, read from the package (dist/cjs/nsfw_classes.js). */
export function nsfwjsLabels(): string[] {
  const mod = require(join(nsfwjsRoot(), 'dist', 'cjs', 'nsfw_classes.js')) as { NSFW_CLASSES: Record<string, string> };
  return Object.keys(mod.NSFW_CLASSES)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => mod.NSFW_CLASSES[k]);
}

/** The baboon test photo (PNG) decoded from the baboon-image-uri data URI. */
export function baboonPhoto(): Buffer {
  const uri = require('baboon-image-uri') as string;
  return Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');
}
