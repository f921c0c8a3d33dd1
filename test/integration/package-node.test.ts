/**
 * Pruning on the Node example (fixtures/node-example): naive (off) vs safe vs trace unzipped deps bytes, and proof
 * that the TRACED function.zip holds the handler bundle and a sharp that loads from it. One trace run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { pruneOff, pruneSafe } from '../../src/measure/prune.js';
import { HANDLER_BUNDLE_DIR, HANDLER_PACKAGES } from '../../src/runtimes/node-handler.js';
import { stripLayers } from '../../src/plan/strip.js';
import { recordFor } from '../../src/runtimes/registry.js';
import { scanProject } from '../../src/scan/scan-project.js';
import type { Manifest } from '../../src/types.js';
import { REPO_ROOT, runPackageBin, sha256File, tempDir, unzipTest, zipEntries } from '../helpers/package-cli.js';

const EXAMPLE = join(REPO_ROOT, 'fixtures', 'node-example');
const CONFIG = join(EXAMPLE, 'lambda-ml.config.json');

interface PackageJson {
  manifest: Manifest;
  prune: { mode: string; savedBytes: number; rules: { rule: string; files: number; bytes: number }[] };
  binariesAudited: number;
}

let sizes: { naive: number; naiveFiles: number; safe: number; safeFiles: number; afterStrip: number };

before(async () => {
  const config = await loadConfig(EXAMPLE, CONFIG);
  const scan = await scanProject(config);
  const record = recordFor(config);
  const strip = stripLayers(scan, record.match); // no layers: everything stays
  const sum = (entries: readonly { bytes: number }[]) => entries.reduce((t, e) => t + e.bytes, 0);
  const off = pruneOff(strip.kept);
  const safe = pruneSafe(strip.kept, scan.deps.kind, scan.deps.root);
  const files = (entries: readonly { link: string | null }[]) => entries.filter((e) => e.link === null).length;
  // What package prunes from: the deps without the packages the handler bundle brings itself.
  const { afterStrip } = stripLayers(scan, record.match, record.handlerProvides(scan.deps));
  sizes = {
    naive: sum(off.kept),
    naiveFiles: files(off.kept),
    safe: sum(safe.kept),
    safeFiles: files(safe.kept),
    afterStrip,
  };
});

test(
  'node example: naive vs safe vs trace deps bytes; the traced function.zip holds the bundle and a sharp that works',
  { timeout: 240_000 },
  async (t) => {
    assert.ok(existsSync(join(HANDLER_BUNDLE_DIR, 'bundle.json')), `the handler bundle is needed: npm run build`);
    // The bundle inlines these but sharp, which ships for the CPU: a change to the handler's imports updates this.
    assert.deepEqual(
      [...HANDLER_PACKAGES],
      ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'sharp', '@aws-sdk/client-s3', 'onnxruntime-node'],
    );
    const dir = tempDir(t);
    const out = join(dir, 'out');
    const run = await runPackageBin(CONFIG, out, ['--prune', 'trace', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout) as PackageJson;
    const { manifest } = body;
    assert.equal(manifest.plan, 'bundle');
    assert.equal(body.prune.mode, 'trace');
    assert.ok(body.binariesAudited >= 2, 'sharp .node and libvips .so audited');

    const zip = join(out, 'function.zip');
    assert.equal(sha256File(zip), manifest.artifacts.function.sha256);
    unzipTest(zip);
    const entries = zipEntries(zip);
    // Regular files only: a symlink's zip entry holds its target path, which docs/design.md §4 does not count as deps
    // bytes. node_modules/sharp/ is the handler's own sharp (for the CPU), not the user's deps.
    const isFile = (e: { mode: number }) => (e.mode & 0o170000) === 0o100000;
    // node_modules/onnxruntime-node/ too: the example's model runs on onnx (backend auto), shipped by the handler.
    const ours = /^node_modules\/(sharp|onnxruntime-node)\//;
    const deps = entries.filter((e) => e.name.startsWith('node_modules/') && !ours.test(e.name));
    const trace = deps.filter(isFile).reduce((total, e) => total + e.size, 0);
    assert.equal(trace, sizes.afterStrip - body.prune.savedBytes, 'zipfile sees what the trace kept');
    assert.ok(trace < sizes.safe && sizes.safe < sizes.naive, `${trace} < ${sizes.safe} < ${sizes.naive}`);
    const pct = (n: number) => `${Math.round((100 * (n - sizes.naive)) / sizes.naive)}%`;
    t.diagnostic(
      `node example deps unzipped: naive ${sizes.naive} B (${sizes.naiveFiles} files), safe ${sizes.safe} B ` +
        `(${sizes.safeFiles} files, ${pct(sizes.safe)}), trace ${trace} B (${deps.length} files, ${pct(trace)})`,
    );
    t.diagnostic(
      `function.zip (trace): ${manifest.artifacts.function.bytes} B ` +
        `zipped, ${manifest.artifacts.function.unzippedBytes} B unzipped`,
    );

    // The bundle at the root; sharp's native files for linux-x64 nested under the handler's own node_modules/sharp.
    const names = new Set(entries.map((e) => e.name));
    for (const name of ['index.mjs', 'tfjs-backend-wasm-simd.wasm', 'lambda-ml.runtime.json'])
      assert.ok(names.has(name), name);
    const img = 'node_modules/sharp/node_modules/@img';
    assert.ok(
      [...names].some((n) => n.startsWith(`${img}/sharp-linux-x64/lib/`) && n.endsWith('.node')),
      'sharp .node',
    );
    assert.ok(
      [...names].some((n) => n.startsWith(`${img}/sharp-libvips-linux-x64/lib/libvips-cpp.so`)),
      'libvips .so',
    );
    assert.deepEqual(
      [...names].filter((n) => /^node_modules\/(@tensorflow|@aws-sdk)\//.test(n)),
      [],
      'inlined in the bundle, not shipped again',
    );

    // Extract and load the bundle and sharp from the extracted tree only, in a child with no access to the repo.
    const task = join(dir, 'task');
    mkdirSync(task);
    execFileSync('unzip', ['-q', zip, '-d', task]);
    const script = `
    const { createRequire } = await import('node:module');
    const path = await import('node:path');
    const req = createRequire(path.join(process.cwd(), 'index.js'));
    const resolves = (name) => { try { return req.resolve(name); } catch { return null; } };
    const { handler } = await import(path.join(process.cwd(), 'index.mjs'));
    const where = resolves('sharp');
    if (!where?.startsWith(process.cwd() + path.sep)) throw new Error('sharp resolved outside the package: ' + where);
    const sharp = (await import('sharp')).default;
    const create = { width: 5, height: 4, channels: 3, background: { r: 200, g: 10, b: 30 } };
    const png = await sharp({ create }).png().toBuffer();
    const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    console.log(JSON.stringify({
      handler: typeof handler, width: decoded.info.width, height: decoded.info.height,
      pixel: [...decoded.data.subarray(0, 3)],
      shipped: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@aws-sdk/client-s3'].filter(resolves),
    }));
    console.log('OK');`;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: task };
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: task,
      env,
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .toString()
      .trim()
      .split('\n');
    assert.equal(output[output.length - 1], 'OK');
    assert.deepEqual(JSON.parse(output[output.length - 2]), {
      handler: 'function',
      width: 5,
      height: 4,
      pixel: [200, 10, 30],
      shipped: [],
    });
  },
);
