import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { LambdaMlError } from '../../src/lib/errors.js';
import { inspectZip, checkEntryName } from '../../src/archive/zip-inspect.js';
import { collectTree } from '../../src/archive/collect-tree.js';
import { measureZip, writeZip } from '../../src/archive/zip-writer.js';
import type { ZipEntry } from '../../src/archive/zip-entry.js';
import { STREAM_THRESHOLD } from '../../src/archive/zip-entry.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-zip-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const isInputError = (error: unknown) => error instanceof LambdaMlError && error.code === 'input';

// Deterministic pseudo-random bytes (incompressible but reproducible).
function seeded(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const CONTENT: Record<string, Buffer> = {
  'a.txt': Buffer.from('hello\n'),
  'empty.txt': Buffer.alloc(0),
  'bin/run.sh': Buffer.from('#!/bin/sh\necho hi\n'),
  'lib/big.js': Buffer.from('export const x = 1;\n'.repeat(5000)),
  'lib/noise.bin': seeded(70_000, 7),
  'ünïcødé/файл 名前.txt': Buffer.from('non-ascii\n'),
};
const DIRS = ['bin', 'lib', 'ünïcødé', 'empty-dir'];

/** Builds the fixture tree; `reverse` creates it in the opposite order. */
async function makeTree(root: string, options: { reverse?: boolean; mtime?: Date } = {}): Promise<void> {
  const dirs = options.reverse ? [...DIRS].reverse() : DIRS;
  const files = Object.entries(CONTENT);
  if (options.reverse) files.reverse();
  for (const dir of dirs) await mkdir(join(root, dir), { recursive: true });
  for (const [name, data] of files) await writeFile(join(root, name), data);
  await chmod(join(root, 'bin/run.sh'), 0o755 & ~process.umask());
  await symlink('../a.txt', join(root, 'lib/link'));
  if (options.mtime) {
    for (const name of [...Object.keys(CONTENT), ...DIRS]) await utimes(join(root, name), options.mtime, options.mtime);
  }
}

function pythonRead(zipPath: string): Record<string, { sha: string; mode: number; date: number[]; dir: boolean }> {
  const script = `
import hashlib, json, sys, zipfile
out = {}
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        out[i.filename] = {"sha": hashlib.sha256(z.read(i)).hexdigest(), "mode": i.external_attr >> 16,
                           "date": list(i.date_time), "dir": i.is_dir()}
print(json.dumps(out))`;
  return JSON.parse(execFileSync('python3', ['-c', script, zipPath], { encoding: 'utf8' }));
}

async function yauzlRead(zipPath: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  for await (const entry of zip.eachEntry()) {
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    out.set(entry.fileName, Buffer.concat(chunks));
  }
  return out;
}

test('writeZip output is read correctly by unzip, zipinfo, python zipfile and yauzl', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'tree');
  await mkdir(root);
  await makeTree(root);
  const out = join(dir, 'out.zip');
  const inputs = await collectTree(root);
  const result = await writeZip(inputs, out);
  execFileSync('unzip', ['-tq', out]);

  const listing = execFileSync('zipinfo', [out], { encoding: 'utf8' });
  const line = (name: string) => listing.split('\n').find((l) => l.endsWith(` ${name}`)) ?? '';
  assert.match(line('a.txt'), /^-rw-r--r-- .* 80-Jan-01 00:00 a\.txt$/);
  assert.match(line('bin/run.sh'), /^-rwxr-xr-x /);
  assert.match(line('bin/'), /^drwxr-xr-x /);
  assert.match(line('empty-dir/'), /^drwxr-xr-x /);
  assert.match(line('lib/link'), /^lrwxrwxrwx /);
  assert.match(line('empty.txt'), / stor /);

  const py = pythonRead(out);
  const names = Object.keys(py);
  assert.deepEqual(
    names,
    [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
  );
  for (const [name, data] of Object.entries(CONTENT)) {
    assert.equal(py[name]?.sha, sha(data), name);
    assert.deepEqual(py[name].date, [1980, 1, 1, 0, 0, 0]);
  }
  assert.equal(py['lib/link'].sha, sha(Buffer.from('../a.txt')));
  assert.equal(py['lib/link'].mode, 0o120777);
  assert.equal(py['bin/run.sh'].mode, 0o100755);
  assert.equal(py['empty-dir/'].mode, 0o40755);
  assert.ok(py['empty-dir/'].dir);

  const read = await yauzlRead(out);
  for (const [name, data] of Object.entries(CONTENT)) assert.deepEqual(read.get(name), data, name);

  const bytes = await readFile(out);
  assert.equal(result.bytes, bytes.length);
  assert.equal(result.sha256, sha(bytes));
  assert.equal(result.sha256Base64, createHash('sha256').update(bytes).digest('base64'));
  assert.equal(result.entries, names.length);
  assert.equal(result.files, names.filter((n) => !n.endsWith('/')).length);
  const unzipped = Object.values(CONTENT).reduce((n, b) => n + b.length, 0) + '../a.txt'.length;
  assert.equal(result.unzippedBytes, unzipped);
  assert.deepEqual(await measureZip(inputs), result);

  const listed = await inspectZip(out);
  assert.equal(listed.bytes, result.bytes);
  assert.equal(listed.unzippedBytes, result.unzippedBytes);
  assert.equal(listed.files, result.files);
  assert.ok(listed.entries.find((e) => e.name === 'lib/link')?.isSymlink);
  assert.equal(listed.entries.find((e) => e.name === 'bin/run.sh')?.mode, 0o100755);
  assert.deepEqual((await readdir(dir)).sort(), ['out.zip', 'tree']); // no temp file left
});

test('byte-identical across mtimes, umask, creation order and input order', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  await mkdir(a);
  await makeTree(a, { mtime: new Date('2001-02-03T04:05:06Z') });
  const previous = process.umask(0o077);
  try {
    await mkdir(b);
    await makeTree(b, { reverse: true, mtime: new Date('2024-12-31T23:59:58Z') });
  } finally {
    process.umask(previous);
  }
  const inputsA = await collectTree(a);
  const inputsB = (await collectTree(b)).reverse();
  const zipA = await writeZip(inputsA, join(dir, 'a.zip'));
  const zipB = await writeZip(inputsB, join(dir, 'b.zip'), { concurrency: 1 });
  assert.equal(zipA.sha256, zipB.sha256);
  assert.deepEqual(await readFile(join(dir, 'a.zip')), await readFile(join(dir, 'b.zip')));
});

test('files above the streaming threshold: deflated in two passes or stored when incompressible', async (t) => {
  const dir = await tempDir(t);
  const text = Buffer.alloc(STREAM_THRESHOLD + 123_457);
  for (let i = 0; i < text.length; i += 4096) text.write(`line ${i} of a large compressible file\n`, i);
  const noise = seeded(STREAM_THRESHOLD + 5, 3);
  await writeFile(join(dir, 'text.bin'), text);
  await writeFile(join(dir, 'noise.bin'), noise);
  const inputs: ZipEntry[] = [
    { path: 'text.bin', kind: 'file', source: join(dir, 'text.bin') },
    { path: 'noise.bin', kind: 'file', source: join(dir, 'noise.bin') },
  ];
  const out = join(dir, 'big.zip');
  const result = await writeZip(inputs, out);
  execFileSync('unzip', ['-tq', out]);
  const py = pythonRead(out);
  assert.equal(py['text.bin'].sha, sha(text));
  assert.equal(py['noise.bin'].sha, sha(noise));
  const listed = await inspectZip(out);
  const noiseEntry = listed.entries.find((e) => e.name === 'noise.bin');
  assert.equal(noiseEntry?.compressedBytes, noise.length); // stored
  assert.ok((listed.entries.find((e) => e.name === 'text.bin')?.compressedBytes ?? Infinity) < text.length / 10);
  assert.deepEqual(await measureZip(inputs), result);
});

test('escaping, absolute and duplicate names are rejected before anything is written', async (t) => {
  const dir = await tempDir(t);
  const bad = ['../evil', '/etc/passwd', 'a/../../b', 'C:\\x', 'a\\..\\b', 'a//b', './a', ''];
  for (const name of bad) {
    await assert.rejects(
      writeZip([{ path: name, kind: 'file', data: Buffer.from('x') }], join(dir, 'bad.zip')),
      isInputError,
      JSON.stringify(name),
    );
  }
  await assert.rejects(writeZip([{ path: '../up', kind: 'dir' }], join(dir, 'bad.zip')), isInputError);
  const dup: ZipEntry[] = [
    { path: 'x', kind: 'file', data: Buffer.alloc(1) },
    { path: 'x', kind: 'file', data: Buffer.alloc(2) },
  ];
  await assert.rejects(measureZip(dup), /listed twice/);
  assert.deepEqual(await readdir(dir), []);
  assert.equal(checkEntryName('ok/name.txt'), null);
  assert.ok(checkEntryName('..'));
});

test('an unreadable source leaves neither a temp file nor an output', async (t) => {
  const dir = await tempDir(t);
  const many: ZipEntry[] = Array.from({ length: 50 }, (_, i) => ({
    path: `f${i}`,
    kind: 'file' as const,
    data: seeded(10_000, i + 1),
  }));
  const missing = join(dir, 'missing.txt');
  await assert.rejects(
    writeZip([...many, { path: 'm/missing.txt', kind: 'file', source: missing }], join(dir, 'out.zip')),
    (error: unknown) => isInputError(error) && (error as Error).message.includes(missing),
  );
  await mkdir(join(dir, 'folder'));
  await assert.rejects(
    writeZip([...many, { path: 'folder-as-file', kind: 'file', source: join(dir, 'folder') }], join(dir, 'out.zip')),
    (error: unknown) => isInputError(error) && /not a regular file/.test((error as Error).message),
  );
  await assert.rejects(writeZip(many, join(dir, 'no-such-dir', 'out.zip')), isInputError);
  assert.deepEqual(await readdir(dir), ['folder']);
});

test('aborting mid-write leaves nothing behind', async (t) => {
  const dir = await tempDir(t);
  const inputs: ZipEntry[] = Array.from({ length: 400 }, (_, i) => ({
    path: `f${i}`,
    kind: 'file' as const,
    data: seeded(20_000, i + 1),
  }));
  const controller = new AbortController();
  let calls = 0;
  const onProgress = () => {
    if (++calls === 3) controller.abort();
  };
  await assert.rejects(writeZip(inputs, join(dir, 'out.zip'), { signal: controller.signal, onProgress }), {
    name: 'AbortError',
  });
  assert.equal(calls, 3);
  assert.deepEqual(await readdir(dir), []);
  await assert.rejects(measureZip(inputs, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('collectTree keeps inner symlinks and rejects ones that leave the folder', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(root, 'sub', 'x'), 'x');
  await symlink('sub/x', join(root, 'ok'));
  const inputs = await collectTree(root);
  assert.deepEqual(
    inputs.find((i) => i.path === 'ok'),
    { path: 'ok', kind: 'symlink', link: 'sub/x' },
  );
  await symlink('../../outside', join(root, 'sub', 'escape'));
  await assert.rejects(
    collectTree(root),
    (error: unknown) => isInputError(error) && (error as Error).message.includes('sub/escape'),
  );
  await rm(join(root, 'sub', 'escape'));
  await symlink('/etc/passwd', join(root, 'abs'));
  await assert.rejects(
    collectTree(root),
    (error: unknown) => isInputError(error) && (error as Error).message.includes('abs'),
  );
});

test('inspectZip measures a zip made by zip -r', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'tree');
  await mkdir(root);
  await makeTree(root);
  const out = join(dir, 'info.zip');
  execFileSync('zip', ['-q', '-r', '-y', out, '.'], { cwd: root });
  const listed = await inspectZip(out);
  const expected = Object.values(CONTENT).reduce((n, b) => n + b.length, 0) + '../a.txt'.length;
  assert.equal(listed.unzippedBytes, expected);
  assert.equal(listed.bytes, (await readFile(out)).length);
  assert.equal(listed.files, Object.keys(CONTENT).length + 1);
  assert.ok(listed.entries.find((e) => e.name === 'bin/')?.isDir);
  assert.ok(listed.entries.find((e) => e.name === 'lib/link')?.isSymlink);
});

test('inspectZip rejects truncated, non-zip, escaping and bomb archives', async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, 'good.zip');
  await writeZip([{ path: 'a', kind: 'file', data: seeded(5000, 9) }], good);
  const truncated = join(dir, 'truncated.zip');
  await writeFile(truncated, await readFile(good));
  await truncate(truncated, 4000);
  await assert.rejects(
    inspectZip(truncated),
    (e: unknown) => isInputError(e) && /truncated\.zip: not a zip file or truncated/.test((e as Error).message),
  );
  const text = join(dir, 'text.zip');
  await writeFile(text, 'just text\n');
  await assert.rejects(inspectZip(text), /not a zip file or truncated/);

  const py = (script: string, path: string) =>
    execFileSync('python3', [
      '-c',
      `import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    ${script}`,
      path,
    ]);
  const evil = join(dir, 'evil.zip');
  py(`z.writestr('ok.txt', 'ok'); z.writestr('../evil', 'x')`, evil);
  await assert.rejects(inspectZip(evil), (e: unknown) => isInputError(e) && (e as Error).message.includes('"../evil"'));
  const bomb = join(dir, 'bomb.zip');
  py(`z.writestr('zeros.bin', bytes(50 * 1024 * 1024))`, bomb);
  await assert.rejects(inspectZip(bomb), (e: unknown) => isInputError(e) && /zip bomb/.test((e as Error).message));
  const listed = await inspectZip(bomb, { maxRatio: 2000 });
  assert.equal(listed.unzippedBytes, 50 * 1024 * 1024);
  await assert.rejects(inspectZip(bomb, { maxRatio: 2000, maxUnzippedBytes: 1e6 }), /more than 1000000 bytes/);
  await assert.rejects(inspectZip(join(dir, 'nope.zip')), /not found/);
  assert.equal((await inspectZip(good)).files, 1);
});
