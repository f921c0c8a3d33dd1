/**
 * The "done when" on the full-size scenario (scale 1: 415 MB deps, 230 MB layer, two 159 MB models):
 * function.zip + deps.zip whose unzipped size plus the layer's is under 262,144,000 bytes by real zip readers,
 * and two runs with the same sha256. Two package runs of ~35 s each: the only scale-1 runs of the package tests.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UNZIPPED_BYTES } from '../../src/lib/limits.js';
import type { Manifest } from '../../src/types.js';
import { ensureScenario } from '../helpers/scenario.js';
import {
  runPackageBin,
  sha256File,
  snapshot,
  tempDir,
  tempsBeside,
  unzipTest,
  zipEntries,
  zipTotals,
} from '../helpers/package-cli.js';

const HEX = /^[0-9a-f]{64}$/;

test(
  'scale-1 scenario: function.zip + deps.zip fit with the 230 MB layer (unzip, zipinfo, zipfile); runs byte-identical',
  { timeout: 240_000 },
  async (t) => {
    const scenario = await ensureScenario({ scale: 1 });
    const dir = tempDir(t);
    const outA = join(dir, 'a', '.lambda-ml');
    const outB = join(dir, 'b', 'artifacts');

    const first = await runPackageBin(scenario.configPath, outA);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /packaged asset-classifier as sideload-bundled/);
    assert.match(first.stdout, /deps\.zip .* inside function\.zip/);
    const second = await runPackageBin(scenario.configPath, outB, ['--json']);
    assert.equal(second.code, 0, second.stderr);

    // What was written: both zips, the models staged for upload, the manifest; no temp folder left.
    assert.deepEqual(readdirSync(outA).sort(), ['deps.zip', 'function.zip', 'manifest.json', 'models']);
    assert.deepEqual(readdirSync(join(outA, 'models')).sort(), ['category', 'color']);
    assert.deepEqual(tempsBeside(outA), []);
    assert.deepEqual(tempsBeside(outB), []);

    const manifest = JSON.parse(readFileSync(join(outA, 'manifest.json'), 'utf8')) as Manifest;
    const json = JSON.parse(second.stdout) as { ok: boolean; manifest: Manifest; out: string };
    assert.equal(json.ok, true);
    assert.equal(json.out, outB);
    assert.deepEqual(json.manifest, JSON.parse(readFileSync(join(outB, 'manifest.json'), 'utf8')));

    // The plan, its reason and every check, as budget computed them.
    assert.equal(manifest.plan, 'sideload-bundled');
    assert.match(manifest.reason, /262,144,000|262144000/);
    assert.deepEqual(manifest.checks.map((c) => c.limit).sort(), ['layers', 'memory', 'tmp', 'unzipped', 'zipDirect']);
    for (const check of manifest.checks) {
      assert.equal(typeof check.used, 'number');
      assert.equal(typeof check.max, 'number');
      assert.equal(typeof check.ok, 'boolean');
    }
    assert.ok(manifest.checks.find((c) => c.limit === 'unzipped')?.ok);

    // Every artifact: zipped and unzipped bytes, sha256 hex and base64 (Lambda's CodeSha256), matching the files.
    const fn = manifest.artifacts.function;
    const deps = manifest.artifacts.deps;
    assert.ok(deps, 'deps.zip in the manifest');
    assert.equal(deps.s3, null, 'bundled inside function.zip');
    for (const [artifact, file] of [
      [fn, 'function.zip'],
      [deps, 'deps.zip'],
    ] as const) {
      const path = join(outA, file);
      assert.equal(artifact.file, file);
      assert.match(artifact.sha256, HEX);
      assert.equal(artifact.sha256, sha256File(path), `${file}: manifest sha256 = a fresh sha256 of the file`);
      assert.equal(artifact.sha256Base64, Buffer.from(artifact.sha256, 'hex').toString('base64'));
      const bytes = Number(execFileSync('stat', ['-c', '%s', path]).toString());
      assert.equal(artifact.bytes, bytes, `${file}: bytes`);
      const totals = zipTotals(path);
      assert.equal(totals.unzipList.bytes, artifact.unzippedBytes, `${file}: unzip -l total`);
      assert.equal(totals.zipinfo.bytes, artifact.unzippedBytes, `${file}: zipinfo total`);
      assert.equal(totals.python.bytes, artifact.unzippedBytes, `${file}: zipfile total`);
      assert.equal(totals.python.files, artifact.files, `${file}: files`);
      assert.equal(unzipTest(path), `No errors detected in compressed data of ${path}.`);
    }
    for (const model of manifest.artifacts.models) {
      for (const f of model.files)
        assert.equal(sha256File(join(outA, model.dir, f.name)), f.sha256, `${model.name}/${f.name}`);
    }

    // THE limit: function unzipped + the layer's, each measured by a real reader, under 262,144,000 bytes.
    assert.ok(scenario.layerZip);
    const layer = zipTotals(scenario.layerZip);
    assert.equal(layer.python.bytes, 230_000_000);
    assert.equal(layer.unzipList.bytes, 230_000_000);
    const functionUnzipped = zipTotals(join(outA, 'function.zip')).python.bytes;
    assert.ok(
      functionUnzipped + layer.python.bytes < UNZIPPED_BYTES,
      `${functionUnzipped} + ${layer.python.bytes} < ${UNZIPPED_BYTES}`,
    );
    t.diagnostic(
      `function.zip ${fn.bytes} B zipped, ${fn.unzippedBytes} B unzipped; + layer 230000000 ` +
        `= ${functionUnzipped + 230_000_000} of ${UNZIPPED_BYTES}; deps.zip ${deps.bytes} B ` +
        `-> ${deps.unzippedBytes} B`,
    );

    // function.zip holds the user's code, the bootstrap, its runtime config and deps.zip byte for byte.
    const names = zipEntries(join(outA, 'function.zip'))
      .map((e) => e.name)
      .sort();
    assert.deepEqual(names, [
      'asset_utils.py',
      'deps.zip',
      'handler.py',
      'labels.json',
      'lambda-ml.runtime.json',
      'lambda_ml_bootstrap.py',
    ]);
    const inner = execFileSync('unzip', ['-p', join(outA, 'function.zip'), 'deps.zip'], { maxBuffer: 256 << 20 });
    assert.equal(inner.length, deps.bytes);
    // deps.zip: stripped (the layer's packages are gone) and pruned (no __pycache__), numpy and friends kept.
    const depNames = zipEntries(join(outA, 'deps.zip')).map((e) => e.name);
    const tops = new Set(depNames.map((n) => n.split('/')[0]));
    for (const kept of ['numpy', 'colorgram', 'webcolors.py', 'numpy-1.16.3.dist-info'])
      assert.ok(tops.has(kept), kept);
    for (const gone of ['tensorflow', 'keras', 'PIL', 'boto3', 'botocore', 'scipy']) assert.ok(!tops.has(gone), gone);
    assert.ok(!depNames.some((n) => n.includes('__pycache__/')));
    assert.ok(
      depNames.some((n) => /LICEN[CS]E/i.test(n)),
      'licences kept',
    );

    // Two runs: identical bytes (manifest and a fresh sha256), whatever the out folder's name.
    const snapA = snapshot(outA);
    const snapB = snapshot(outB);
    assert.equal(snapB.get('function.zip'), snapA.get('function.zip'));
    assert.equal(snapB.get('deps.zip'), snapA.get('deps.zip'));
    assert.deepEqual(json.manifest.artifacts, manifest.artifacts);
    assert.equal(snapB.get('manifest.json'), snapA.get('manifest.json'), 'the manifest itself is reproducible');

    // The emitted bootstrap, run by the machine's python3 on these artifacts: deps importable from
    // /tmp/lambda-ml/<sha256>/.
    const task = join(dir, 'task');
    const tmp = join(dir, 'lambda-tmp');
    mkdirSync(task);
    mkdirSync(tmp);
    execFileSync('unzip', ['-q', join(outA, 'function.zip'), '-d', task]);
    const probe =
      'import sys; sys.path.insert(0, sys.argv[1]); import lambda_ml_bootstrap, importlib.util, json; ' +
      'print(json.dumps({"numpy": importlib.util.find_spec("numpy").origin, ' +
      '"webcolors": importlib.util.find_spec("webcolors").origin}))';
    const lines = execFileSync('python3', ['-c', probe, task], { env: { ...process.env, LAMBDA_ML_TMP: tmp } })
      .toString()
      .trim()
      .split('\n');
    const where = JSON.parse(lines[lines.length - 1]) as { numpy: string; webcolors: string };
    const folder = join(tmp, 'lambda-ml', deps.sha256);
    assert.equal(where.numpy, join(folder, 'numpy', '__init__.py'));
    assert.equal(where.webcolors, join(folder, 'webcolors.py'));
    assert.ok(existsSync(join(folder, 'numpy-1.16.3.dist-info', 'RECORD')));
  },
);
