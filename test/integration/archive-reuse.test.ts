/**
 * Reusing a zip this run wrote (src/archive/zip-reuse.ts): the function zip copies the entries the measure stage
 * already deflated. The copy must give the very bytes a fresh write gives (checked with sha256, `unzip -t` and
 * yauzl), must really copy (a source changed after measuring still ships as measured), and must fall back to
 * deflating whatever does not match (other content, another level). And `package` end to end: what it ships
 * extracts to the sources, and no scratch zip is left in --out.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { writeArchive, measureArchive } from '../../src/archive/archive.js';
import type { ArchiveEntry } from '../../src/archive/archive-entry.js';
import { inspectZip } from '../../src/archive/zip-inspect.js';
import { STREAM_THRESHOLD } from '../../src/archive/zip-entry.js';
import { writeZip } from '../../src/archive/zip-writer.js';
import { validateConfig } from '../../src/config/validate.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { runPackage } from '../../src/pipeline/package.js';
import { sha256File, tempDir, unzipTest } from '../helpers/package-cli.js';

/** Seeded bytes (xorshift32): incompressible, the same every run. */
function seeded(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
}

/** A small tree: text, incompressible bytes, an executable, a symlink, and one file streamed at write time. */
function makeTree(root: string): ArchiveEntry[] {
  const big = Buffer.alloc(STREAM_THRESHOLD + 4096, 'lambda-ml streams files above the threshold\n');
  writeTree(root, {
    'a.js': 'export const a = 1;\n'.repeat(500),
    'lib/noise.bin': seeded(200_000, 7),
    'bin/run': '#!/bin/sh\necho run\n',
    'big/weights.txt': big,
  });
  const file = (path: string, executable = false): ArchiveEntry => ({
    path,
    kind: 'file',
    source: join(root, path),
    executable,
    bytes: readFileSync(join(root, path)).length,
  });
  return [
    file('a.js'),
    file('lib/noise.bin'),
    file('bin/run', true),
    file('big/weights.txt'),
    { path: 'lib/link', kind: 'symlink', link: 'noise.bin' },
    { path: 'config.json', kind: 'file', data: Buffer.from('{"kept":true}\n') },
  ];
}

const extra: ArchiveEntry[] = [{ path: 'lambda-ml.runtime.json', kind: 'file', data: Buffer.from('{"v":1}\n') }];

test('a zip written from kept entries is byte for byte a fresh write, and passes unzip -t', async (t) => {
  const dir = tempDir(t);
  const entries = makeTree(join(dir, 'src'));
  const kept = await writeArchive(entries, join(dir, 'kept.zip'), 'zip', { keep: true });
  assert.ok(kept.reusable, 'keep returns the records');
  assert.equal(kept.reusable.entries.length, entries.length);
  const fresh = await writeArchive([...entries, ...extra], join(dir, 'fresh.zip'), 'zip');
  const reused = await writeArchive([...entries, ...extra], join(dir, 'reused.zip'), 'zip', {
    reuse: [kept.reusable],
  });
  assert.equal(reused.reusedEntries, entries.length, 'every kept entry copied; only the new one deflated');
  assert.equal(fresh.reusedEntries, 0);
  assert.equal(reused.sha256, fresh.sha256);
  assert.equal(sha256File(join(dir, 'reused.zip')), fresh.sha256);
  assert.deepEqual(readFileSync(join(dir, 'reused.zip')), readFileSync(join(dir, 'fresh.zip')));
  assert.equal((await measureArchive([...entries, ...extra], 'zip')).sha256, fresh.sha256, 'measure agrees');
  unzipTest(join(dir, 'reused.zip'));
  const listing = await inspectZip(join(dir, 'reused.zip'));
  assert.equal(listing.entries.length, entries.length + extra.length);
});

test('reuse copies: a source changed after measuring ships as measured; other content is deflated anew', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'src');
  const entries = makeTree(root);
  const kept = await writeArchive(entries, join(dir, 'kept.zip'), 'zip', { keep: true });
  const before = readFileSync(join(root, 'a.js'), 'utf8');
  writeFileSync(join(root, 'a.js'), before.replace(/1/g, '2')); // same size, other bytes
  const changedData = entries.map((e) => (e.path === 'config.json' ? { ...e, data: Buffer.from('{"kept":no}\n') } : e));
  const out = join(dir, 'out.zip');
  await writeArchive(changedData, out, 'zip', { reuse: [kept.reusable!] });
  const show = (name: string) => execFileSync('unzip', ['-p', out, name], { encoding: 'utf8' });
  assert.equal(show('a.js'), before, 'copied from the kept zip, not read again');
  assert.equal(show('config.json'), '{"kept":no}\n', 'in-memory data that differs is not reused');
  unzipTest(out);

  const level1 = join(dir, 'level1.zip');
  await writeZip(entries, level1, { reuse: [kept.reusable!], level: 1 });
  assert.equal(
    execFileSync('unzip', ['-p', level1, 'a.js'], { encoding: 'utf8' }),
    before.replace(/1/g, '2'),
    'a zip kept at level 9 is not reused for level 1',
  );
});

test('a kept zip cut short fails with one internal error and leaves nothing behind', async (t) => {
  const dir = tempDir(t);
  const entries = makeTree(join(dir, 'src'));
  const keptPath = join(dir, 'kept.zip');
  const kept = await writeArchive(entries, keptPath, 'zip', { keep: true });
  truncateSync(keptPath, 1000);
  const out = join(dir, 'out.zip');
  await assert.rejects(
    writeArchive(entries, out, 'zip', { reuse: [kept.reusable!] }),
    (error) => error instanceof LambdaMlError && error.code === 'internal' && /ended inside entry/.test(error.message),
  );
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('out.zip')),
    [],
  );
});

test('function.zip reuses the measured bundle; it extracts to the sources, no scratch zip in --out', async (t) => {
  const dir = tempDir(t);
  const files: Record<string, string | Buffer> = {
    'src/app.py': 'import lambda_ml_bootstrap\n\ndef handler(event, context):\n    return 1\n',
    'site/fast/__init__.py': 'VALUE = 1\n'.repeat(200),
    'site/fast/data.bin': seeded(300_000, 11),
    'site/fast-1.0.dist-info/METADATA': 'Name: fast\nVersion: 1.0\n',
    'site/fast-1.0.dist-info/top_level.txt': 'fast\n',
  };
  writeTree(dir, files);
  const config = validateConfig(
    { function: { name: 'py-fn', runtime: 'python3.12', handler: 'app.handler' }, code: 'src', deps: 'site' },
    dir,
  );
  const out = join(dir, 'out');
  const run = await runPackage(config, { out });
  assert.equal(run.manifest.plan, 'bundle');
  // Everything but lambda-ml.runtime.json comes from the bundle zip the measure stage wrote.
  assert.equal(run.reusedEntries, run.manifest.artifacts.function.files - 1);
  assert.deepEqual(readdirSync(out).sort(), ['function.zip', 'manifest.json']);
  const zip = join(out, 'function.zip');
  assert.equal(sha256File(zip), run.manifest.artifacts.function.sha256);
  unzipTest(zip);
  for (const [path, data] of Object.entries(files)) {
    const name = path.replace(/^(src|site)\//, '');
    if (name.endsWith('.txt') || name.endsWith('METADATA') || name.endsWith('.py') || name.endsWith('.bin')) {
      const shipped = execFileSync('unzip', ['-p', zip, name]);
      assert.deepEqual(shipped, Buffer.from(data), name);
    }
  }
});
