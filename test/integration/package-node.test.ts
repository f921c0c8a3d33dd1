/**
 * Pruning on the Node example (fixtures/node-example): naive (off) vs safe vs trace unzipped deps bytes, and proof
 * that the TRACED function.zip still loads and runs every import of the handler. One trace run (~20 s of nft).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { pruneOff, pruneSafe } from '../../src/pack/prune.js';
import { HANDLER_PACKAGES, HANDLER_DIST } from '../../src/pack/handler-files.js';
import { stripLayers } from '../../src/plan/strip.js';
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

let sizes: { naive: number; naiveFiles: number; safe: number; safeFiles: number };

before(async () => {
  const config = await loadConfig(EXAMPLE, CONFIG);
  const scan = await scanProject(config);
  const strip = stripLayers(scan); // no layers: everything stays
  const sum = (entries: readonly { bytes: number }[]) => entries.reduce((t, e) => t + e.bytes, 0);
  const off = pruneOff(strip.kept);
  const safe = pruneSafe(strip.kept, scan.deps.kind, scan.deps.root);
  const files = (entries: readonly { link: string | null }[]) => entries.filter((e) => e.link === null).length;
  sizes = { naive: sum(off.kept), naiveFiles: files(off.kept), safe: sum(safe.kept), safeFiles: files(safe.kept) };
});

test(
  'node example: naive vs safe vs trace deps bytes; the traced function.zip loads and runs the handler imports',
  { timeout: 240_000 },
  async (t) => {
    assert.ok(
      existsSync(join(HANDLER_DIST, 'index.js')),
      `the compiled handler (${HANDLER_DIST}) is needed: npx tsc -p tsconfig.json`,
    );
    // The child below exercises exactly these: a change to the handler's imports must update this test.
    assert.deepEqual(
      [...HANDLER_PACKAGES],
      ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'sharp', '@aws-sdk/client-s3'],
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
    // bytes.
    const deps = entries.filter((e) => e.name.startsWith('node_modules/') && (e.mode & 0o170000) === 0o100000);
    const trace = deps.reduce((total, e) => total + e.size, 0);
    assert.equal(trace, sizes.naive - body.prune.savedBytes, 'zipfile sees what the trace kept');
    assert.ok(trace < sizes.safe && sizes.safe < sizes.naive, `${trace} < ${sizes.safe} < ${sizes.naive}`);
    const pct = (n: number) => `${Math.round((100 * (n - sizes.naive)) / sizes.naive)}%`;
    t.diagnostic(
      `node example deps unzipped: naive ${sizes.naive} B (${sizes.naiveFiles} files), safe ${sizes.safe} B (${sizes.safeFiles} files, ${pct(sizes.safe)}), trace ${trace} B (${deps.length} files, ${pct(trace)})`,
    );
    t.diagnostic(
      `function.zip (trace): ${manifest.artifacts.function.bytes} B zipped, ${manifest.artifacts.function.unzippedBytes} B unzipped`,
    );

    // Native and wasm assets the tracer cannot see are kept with their packages.
    const names = new Set(entries.map((e) => e.name));
    assert.ok(
      [...names].some((n) => /^node_modules\/@img\/sharp-linux-x64\/lib\/.*\.node$/.test(n)),
      'sharp .node',
    );
    assert.ok(
      [...names].some((n) => /^node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/.test(n)),
      'libvips .so',
    );
    assert.ok(
      [...names].some((n) => /^node_modules\/@tensorflow\/tfjs-backend-wasm\/.*\.wasm$/.test(n)),
      'tfjs wasm binaries',
    );
    assert.ok(names.has('index.mjs') && names.has('lambda-ml.runtime.json'));

    // Extract and load every handler import from the extracted tree only, in a child with no access to the repo.
    const task = join(dir, 'task');
    mkdirSync(task);
    execFileSync('unzip', ['-q', zip, '-d', task]);
    const script = `
    const { createRequire } = require('node:module');
    const path = require('node:path');
    const req = createRequire(path.join(process.cwd(), 'index.js'));
    const within = (name) => { const p = req.resolve(name); if (!p.startsWith(process.cwd() + path.sep)) throw new Error(name + ' resolved outside the package: ' + p); return req(name); };
    (async () => {
      const tf = within('@tensorflow/tfjs');
      within('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed');
      await tf.ready();
      const sum = Array.from(tf.add(tf.tensor1d([1, 2, 3]), tf.tensor1d([10, 20, 30])).dataSync());
      const sharp = within('sharp');
      const png = await sharp({ create: { width: 5, height: 4, channels: 3, background: { r: 200, g: 10, b: 30 } } }).png().toBuffer();
      const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      const { S3Client, GetObjectTaggingCommand } = within('@aws-sdk/client-s3');
      const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
      const command = new GetObjectTaggingCommand({ Bucket: 'b', Key: 'k' });
      console.log(JSON.stringify({ backend: tf.getBackend(), sum, width: decoded.info.width, height: decoded.info.height, pixel: [...decoded.data.subarray(0, 3)], s3: typeof client.send, command: command.constructor.name }));
      console.log('OK');
    })().catch((error) => { console.error(error); process.exit(1); });`;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: task };
    const output = execFileSync(process.execPath, ['-e', script], {
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
      backend: 'wasm',
      sum: [11, 22, 33],
      width: 5,
      height: 4,
      pixel: [200, 10, 30],
      s3: 'function',
      command: 'GetObjectTaggingCommand',
    });
  },
);
