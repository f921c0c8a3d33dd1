/**
 * `package` with the bundled handler: the node example (its node_modules hold x64 sharp) packaged for arm64 ships
 * sharp's arm64 packages from lambda-ml's own install cache and no x64 binary, passes the native audit, and leaves the
 * inlined packages out as provided by the handler. The cache is filled once (npm, --os/--cpu), reused without npm,
 * and refilled offline from a warm npm cache; a cold cache offline is one clear line, exit 2.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { nativeEntries } from '../../src/measure/native-packages.js';
import { readBinaryInfo } from '../../src/pack/elf-read.js';
import type { Manifest } from '../../src/types.js';
import { assertOneLineError, REPO_ROOT, runBin, runPackageBin, tempDir, unzipTest } from '../helpers/package-cli.js';

const EXAMPLE = join(REPO_ROOT, 'fixtures', 'node-example');
const SKIP = existsSync(join(EXAMPLE, 'node_modules', 'sharp'))
  ? false
  : 'the node example is not set up: npm run setup';
const SHARP = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'sharp', 'package.json'), 'utf8')).version;
// Any network use goes to a port nothing listens on: npm fails at once unless its cache has what it needs.
const OFFLINE = { npm_config_proxy: 'http://127.0.0.1:9', npm_config_https_proxy: 'http://127.0.0.1:9' };

/** The node example's config with another architecture, written beside `dir` with absolute paths. */
function exampleConfig(dir: string, architecture: string): string {
  const config = JSON.parse(readFileSync(join(EXAMPLE, 'lambda-ml.config.json'), 'utf8'));
  config.function.architecture = architecture;
  config.deps = join(EXAMPLE, 'node_modules');
  for (const model of config.models) {
    model.path = join(EXAMPLE, model.path);
    model.labels = join(EXAMPLE, model.labels);
  }
  const file = join(dir, 'lambda-ml.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const zipNames = (zip: string) =>
  execFileSync('zipinfo', ['-1', zip], { maxBuffer: 64 << 20 })
    .toString()
    .split('\n');

test(
  'arm64: sharp for linux-arm64 from the cache, no x64 binary, audit passes; cache reused, refilled offline',
  { skip: SKIP, timeout: 300_000 },
  async (t) => {
    const dir = tempDir(t, 'lambda-ml-arm64-');
    const config = exampleConfig(dir, 'arm64');
    const cache = join(dir, 'cache');
    const run = await runPackageBin(config, join(dir, 'out'), ['--json'], { env: { LAMBDA_ML_CACHE: cache } });
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout) as { manifest: Manifest; binariesAudited: number };
    assert.equal(body.manifest.function.architecture, 'arm64');
    assert.ok(body.binariesAudited >= 2, `sharp's .node and libvips audited (${body.binariesAudited})`);

    const zip = join(dir, 'out', 'function.zip');
    unzipTest(zip);
    const names = zipNames(zip);
    const addon = `node_modules/sharp/node_modules/@img/sharp-linux-arm64/lib/sharp-linux-arm64-${SHARP}.node`;
    assert.ok(names.includes(addon), addon);
    assert.ok(
      names.some((n) => /^node_modules\/sharp\/node_modules\/@img\/sharp-libvips-linux-arm64\/lib\/libvips/.test(n)),
    );
    assert.deepEqual(
      names.filter((n) => /x64|x86_64/.test(n)),
      [],
      'no x64 package or binary',
    );
    assert.ok(names.includes('index.mjs') && names.includes('tfjs-backend-wasm-simd.wasm'));
    assert.deepEqual(
      names.filter((n) => /^node_modules\/(@tensorflow|@aws-sdk|@smithy)\//.test(n)),
      [],
      'inlined',
    );
    // The addon itself, read back out of the zip: an aarch64 ELF.
    const extracted = join(dir, 'addon.node');
    writeFileSync(extracted, execFileSync('unzip', ['-p', zip, addon], { maxBuffer: 64 << 20 }));
    assert.equal(readBinaryInfo(extracted).machineId, 183);

    const installed = join(cache, 'native', `sharp@${SHARP}-linux-arm64`);
    assert.ok(existsSync(join(installed, 'node_modules', '@img', 'sharp-linux-arm64', 'package.json')));
    assert.deepEqual(readdirSync(join(cache, 'native')), [`sharp@${SHARP}-linux-arm64`], 'no temp folder left');

    // Again with no npm on PATH: the cached install is used as it is, and the zip is the same bytes.
    const noNpm = join(dir, 'empty-bin');
    mkdirSync(noNpm);
    const again = await runPackageBin(config, join(dir, 'out2'), ['--json'], {
      env: { LAMBDA_ML_CACHE: cache, PATH: noNpm },
    });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(readFileSync(zip).equals(readFileSync(join(dir, 'out2', 'function.zip'))), 'same function.zip');

    // A fresh cache with the network gone: npm's own cache (warm from the first run) is enough.
    const offline = await runPackageBin(config, join(dir, 'out3'), ['--json'], {
      env: { LAMBDA_ML_CACHE: join(dir, 'cache-offline'), ...OFFLINE },
    });
    assert.equal(offline.code, 0, offline.stderr);
    assert.ok(readFileSync(zip).equals(readFileSync(join(dir, 'out3', 'function.zip'))), 'same function.zip offline');
  },
);

test(
  'offline with a cold npm cache: one line, exit 2, nothing left in the cache or beside --out',
  { skip: SKIP, timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t, 'lambda-ml-native-offline-');
    const config = exampleConfig(dir, 'arm64');
    const cache = join(dir, 'cache');
    const result = await runPackageBin(config, join(dir, 'out'), [], {
      env: { LAMBDA_ML_CACHE: cache, npm_config_cache: join(dir, 'npm-cache'), ...OFFLINE },
    });
    assertOneLineError(result, 2, /cannot install sharp@[\d.]+ for linux-arm64: npm install .* failed \(E\w+\)/);
    assert.match(result.stderr, /hint: connect to the npm registry once/);
    assert.deepEqual(readdirSync(join(cache, 'native')), []);
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['cache', 'lambda-ml.config.json', 'npm-cache'],
      'no out folder, no temp folder',
    );
  },
);

test(
  'x86_64: the inlined packages and sharp are reported as provided by the handler, in the JSON and in words',
  { skip: SKIP, timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t, 'lambda-ml-provided-');
    const config = exampleConfig(dir, 'x86_64');
    const json = await runBin(['budget', '--config', config, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const budget = JSON.parse(json.stdout) as {
      components: { code: { bytes: number }; deps: { afterStrip: number; packages: Record<string, unknown>[] } };
    };
    const byName = new Map(budget.components.deps.packages.map((p) => [p.name as string, p]));
    for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@aws-sdk/client-s3', 'sharp'])
      assert.equal(byName.get(name)?.providedBy, 'handler', name);
    assert.equal(byName.get('@img/sharp-linux-x64')?.providedBy, 'handler', 'the user’s sharp binaries are replaced');
    assert.equal(byName.get('@tensorflow/tfjs')?.layerVersion, '4.22.0');
    // The handler's own bytes (bundle, wasm, sharp for the CPU) are counted with the code.
    assert.ok(budget.components.code.bytes > 20_000_000, `${budget.components.code.bytes}`);
    const human = await runBin(['budget', '--config', config]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /@tensorflow\/tfjs 4\.22\.0 +[\d.]+ MiB +in the handler/);
  },
);

test(
  'two first installs at once into one cache: both get the same files, one folder, no temp left',
  { skip: SKIP, timeout: 120_000 },
  async (t) => {
    const cache = join(tempDir(t, 'lambda-ml-native-race-'), 'cache');
    const env = { LAMBDA_ML_CACHE: cache };
    const [a, b] = await Promise.all([
      nativeEntries(['sharp'], 'arm64', { env }),
      nativeEntries(['sharp'], 'arm64', { env }),
    ]);
    assert.deepEqual(
      a.map((e) => e.path),
      b.map((e) => e.path),
    );
    assert.ok(a.some((e) => e.path.endsWith(`sharp-linux-arm64-${SHARP}.node`)));
    assert.ok(a.every((e) => e.source?.startsWith(join(cache, 'native', `sharp@${SHARP}-linux-arm64`))));
    assert.deepEqual(readdirSync(join(cache, 'native')), [`sharp@${SHARP}-linux-arm64`]);
  },
);
