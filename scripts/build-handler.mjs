#!/usr/bin/env node
/**
 * Builds the Lambda handler (src/handler/index.ts) into ONE ESM file, dist/handler-bundle/index.mjs, with TF.js, the
 * wasm backend and @aws-sdk/client-s3 inlined, the one .wasm Node loads copied beside it, and the native packages
 * (sharp, onnxruntime-node) left as imports: `package` ships those for the function's CPU (docs/handler.md, "The
 * bundle"). Run by `npm run build` after tsc.
 *
 *   node scripts/build-handler.mjs [--out DIR] [--metafile FILE] [--no-minify]
 *
 * The same sources give the same bytes: no absolute path is embedded (esbuild names inputs relative to the repo,
 * comments are dropped) and nothing depends on the time or the machine. The folder is written beside DIR and
 * renamed into place, so a failed build never leaves half a bundle.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages the bundle imports instead of inlining: native addons, shipped by `package` for the target CPU. */
export const EXTERNAL = ['sharp', 'onnxruntime-node'];

/** The wasm build Node runs (SIMD, no threads: src/handler/backend.ts WASM_FILE). */
export const WASM_FILE = 'tfjs-backend-wasm-simd.wasm';

/** The inlined packages' licences (esbuild's name for its external legal comments file). */
export const LEGAL_FILE = 'index.mjs.LEGAL.txt';

/**
 * Packages replaced by a stub: nothing of theirs can run in Node. TF.js's WebGL backend needs a browser (its kernels
 * would only be registered, ~0.5 MB, at every cold start); tfjs-core reaches for node-fetch only when Node has no
 * global fetch, which every Node we run on has.
 */
const STUBS = {
  '@tensorflow/tfjs-backend-webgl': (version) => `export const version_webgl = ${JSON.stringify(version)};\n`,
  'node-fetch': () => 'module.exports = (...args) => globalThis.fetch(...args);\n',
};

/**
 * An ESM bundle has no `require`, `__dirname` or `__filename`; the CommonJS parts inlined (emscripten's loader,
 * seedrandom) use them, so they are made from import.meta.url when the bundle loads, never from the build machine.
 */
const BANNER = [
  "import { createRequire as __lambdaMlCreateRequire } from 'node:module';",
  "import { fileURLToPath as __lambdaMlFileURLToPath } from 'node:url';",
  'const require = __lambdaMlCreateRequire(import.meta.url);',
  'const __lambdaMlFilename = __lambdaMlFileURLToPath(import.meta.url);',
  "const __lambdaMlDirname = __lambdaMlFilename.slice(0, __lambdaMlFilename.lastIndexOf('/'));",
].join('\n');

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** `node_modules/@a/b/node_modules/c/x.js` -> `node_modules/@a/b/node_modules/c`, or null for our own sources. */
function packageDirOf(input) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return match ? match[1] : null;
}

const stubPlugin = {
  name: 'lambda-ml-stubs',
  setup(b) {
    const names = Object.keys(STUBS);
    const filter = new RegExp(`^(${names.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'lambda-ml-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'lambda-ml-stub' }, (args) => {
      const manifest = join(ROOT, 'node_modules', args.path, 'package.json');
      const version = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : '0.0.0';
      return { contents: STUBS[args.path](version), loader: 'js', resolveDir: ROOT };
    });
  },
};

/**
 * Bundles into `outDir` (replaced whole) and returns esbuild's metafile and what was written. `minify` drops
 * whitespace and folds syntax but keeps every identifier, so stack traces still name the functions.
 */
export async function buildHandler({ outDir = join(ROOT, 'dist', 'handler-bundle'), minify = true } = {}) {
  const out = resolve(outDir);
  mkdirSync(dirname(out), { recursive: true });
  const temp = join(dirname(out), `.${out.split('/').pop()}.tmp-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  try {
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: ['src/handler/index.ts'],
      outfile: join(temp, 'index.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // ESM entry points first: one copy of tfjs-core for tfjs and the wasm backend, and tree-shaking for the SDK.
      mainFields: ['module', 'main'],
      external: EXTERNAL,
      plugins: [stubPlugin],
      banner: { js: BANNER },
      define: { __dirname: '__lambdaMlDirname', __filename: '__lambdaMlFilename' },
      minifyWhitespace: minify,
      minifySyntax: minify,
      minifyIdentifiers: false,
      legalComments: 'none', // the licences ship beside the bundle, one copy of each text (LEGAL_FILE)
      charset: 'utf8',
      metafile: true,
      logLevel: 'error',
    });
    const wasm = createRequire(join(ROOT, 'package.json')).resolve('@tensorflow/tfjs-backend-wasm');
    copyFileSync(join(dirname(wasm), WASM_FILE), join(temp, WASM_FILE));
    const inlined = inlinedPackages(result.metafile);
    const imports = importedPackages(result.metafile);
    writeFileSync(join(temp, LEGAL_FILE), licences(inlined));
    const files = ['index.mjs', WASM_FILE, LEGAL_FILE].map((name) => {
      const data = readFileSync(join(temp, name));
      return { name, bytes: data.length, sha256: sha256(data) };
    });
    const info = {
      entry: 'index.mjs',
      minified: minify,
      files,
      native: nativeVersions(imports),
      imports,
      packages: inlined.map(({ name, version }) => ({ name, version })),
      stubbed: Object.keys(STUBS),
    };
    writeFileSync(join(temp, 'bundle.json'), JSON.stringify(info, null, 2) + '\n');
    swapIn(temp, out);
    return { metafile: result.metafile, info, outDir: out };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Every package with a file in the bundle, as name, version and folder; sorted, one row per folder. */
function inlinedPackages(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const dir = packageDirOf(input);
    if (dir) dirs.add(dir);
  }
  return [...dirs].sort().map((dir) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
    return { name: manifest.name, version: manifest.version, dir, license: manifest.license ?? null };
  });
}

/** The packages our own sources import (the roots of what is inlined, and the externals). */
function importedPackages(metafile) {
  const names = new Set();
  for (const [input, meta] of Object.entries(metafile.inputs)) {
    if (!input.startsWith('src/')) continue;
    for (const imp of meta.imports) {
      if (imp.external && !EXTERNAL.includes(imp.path)) continue; // node: built-ins
      const dir = imp.external ? `node_modules/${imp.path}` : packageDirOf(imp.path);
      if (dir) names.add(dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length));
    }
  }
  return [...names].sort();
}

/** The external packages our sources import, with the versions beside lambda-ml (`package` ships these per CPU). */
function nativeVersions(imports) {
  return EXTERNAL.filter((name) => imports.includes(name)).map((name) => ({
    name,
    version: JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version,
  }));
}

/** The inlined packages' licence files, each distinct text once, after the packages it covers. */
function licences(packages) {
  const byText = new Map();
  for (const pkg of packages) {
    const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE'].find((f) =>
      existsSync(join(ROOT, pkg.dir, f)),
    );
    const text = file ? readFileSync(join(ROOT, pkg.dir, file), 'utf8').trim() : `License: ${pkg.license}`;
    const names = byText.get(text) ?? new Set();
    names.add(`${pkg.name}@${pkg.version}`);
    byText.set(text, names);
  }
  return [...byText].map(([text, names]) => `${[...names].join('\n')}\n\n${text}\n`).join(`\n${'-'.repeat(80)}\n\n`);
}

/** Replaces `out` by `temp`: the previous bundle is moved aside first and removed once the new one is in place. */
function swapIn(temp, out) {
  const old = `${temp}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(out)) renameSync(out, old);
  renameSync(temp, out);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const value = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const { metafile, info, outDir } = await buildHandler({
    outDir: value('--out'),
    minify: !args.includes('--no-minify'),
  });
  const metafilePath = value('--metafile');
  if (metafilePath) writeFileSync(resolve(metafilePath), JSON.stringify(metafile));
  const total = info.files.reduce((t, f) => t + f.bytes, 0);
  console.log(`handler bundle: ${outDir} (${info.files.map((f) => `${f.name} ${f.bytes} B`).join(', ')}; ${total} B)`);
}
