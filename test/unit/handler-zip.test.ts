import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
  chmod,
  stat,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { extractZip, safeEntryPath } from '../../src/handler/zip-extract.js';
import { readZipDirectory } from '../../src/archive/zip-directory.js';

const crc32 = (zlib as unknown as { crc32: (d: Uint8Array) => number }).crc32;

/** A stored (uncompressed) zip with arbitrary names: enough to build hostile archives. */
function storedZip(entries: { name: string; data: Buffer; crc?: number; mode?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const crc = e.crc ?? crc32(e.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(e.data.length, 18);
    lh.writeUInt32LE(e.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(0x0314, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(e.data.length, 20);
    ch.writeUInt32LE(e.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, e.data);
    centrals.push(ch, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

async function tmp(t: import('node:test').TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-zip-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('extracts a `zip -r -X -y` archive like unzip: contents, modes, symlinks, empty folders', async (t) => {
  const dir = await tmp(t);
  const src = join(dir, 'src');
  await mkdir(join(src, 'node_modules', 'pkg', 'bin'), { recursive: true });
  await mkdir(join(src, 'node_modules', 'empty'), { recursive: true });
  await writeFile(join(src, 'node_modules', 'pkg', 'index.js'), 'module.exports = 42;\n'.repeat(2000));
  await writeFile(join(src, 'node_modules', 'pkg', 'bin', 'run'), '#!/bin/sh\necho hi\n');
  await chmod(join(src, 'node_modules', 'pkg', 'bin', 'run'), 0o755);
  await writeFile(join(src, 'node_modules', 'pkg', 'private.txt'), 'secret');
  await chmod(join(src, 'node_modules', 'pkg', 'private.txt'), 0o600);
  await writeFile(join(src, 'node_modules', 'pkg', 'été ünïcode.txt'), 'ok');
  await symlink('index.js', join(src, 'node_modules', 'pkg', 'main.js'));
  execFileSync('zip', ['-r', '-X', '-y', '-q', join(dir, 'deps.zip'), 'node_modules'], { cwd: src });
  const zip = await readFile(join(dir, 'deps.zip'));
  const out = join(dir, 'out');
  await mkdir(out);
  const stats = await extractZip(zip, out);
  assert.equal(stats.symlinks, 1);
  execFileSync('diff', ['-r', '--no-dereference', join(src, 'node_modules'), join(out, 'node_modules')]);
  assert.equal((await stat(join(out, 'node_modules', 'pkg', 'bin', 'run'))).mode & 0o777, 0o755);
  assert.equal((await stat(join(out, 'node_modules', 'pkg', 'private.txt'))).mode & 0o777, 0o600);
  assert.equal(await readlink(join(out, 'node_modules', 'pkg', 'main.js')), 'index.js');
  assert.ok((await lstat(join(out, 'node_modules', 'empty'))).isDirectory());
  assert.ok(readZipDirectory(zip).some((e) => e.name === 'node_modules/pkg/été ünïcode.txt'));
});

test('zip-slip: "..", absolute and escaping symlink entries are refused; a bad CRC is caught', async (t) => {
  const dir = await tmp(t);
  for (const name of ['../evil.txt', 'a/../../evil.txt', '/etc/evil.txt', 'C:/evil.txt']) {
    const out = join(dir, `o${Math.random()}`);
    await mkdir(out);
    await assert.rejects(extractZip(storedZip([{ name, data: Buffer.from('x') }]), out), /refusing/, name);
  }
  assert.throws(() => safeEntryPath('/tmp/x', 'ok/../../y'), /refusing/);
  const out = join(dir, 'crc');
  await mkdir(out);
  await assert.rejects(
    extractZip(storedZip([{ name: 'f.txt', data: Buffer.from('hello'), crc: 1 }]), out),
    /CRC32 mismatch in f\.txt/,
  );
  // A symlink whose target leaves the tree.
  const src = join(dir, 'links');
  await mkdir(src);
  await symlink('../../../etc/passwd', join(src, 'escape'));
  execFileSync('zip', ['-r', '-X', '-y', '-q', join(dir, 'links.zip'), '.'], { cwd: src });
  const out2 = join(dir, 'out2');
  await mkdir(out2);
  await assert.rejects(extractZip(await readFile(join(dir, 'links.zip')), out2), /points outside the extracted tree/);
  await assert.rejects(extractZip(Buffer.from('not a zip at all, just text'), out2), /not a zip file/);
  // A link under a link: through `a -> .`, `a/b -> ../x` would land one level above the tree.
  const out3 = join(dir, 'out3');
  await mkdir(out3);
  const link = (name: string, target: string) => ({ name, data: Buffer.from(target), mode: 0o120777 });
  await assert.rejects(
    extractZip(storedZip([link('a', '.'), link('a/b', '../x')]), out3),
    /entry a\/b lies under a symlink of the archive: refused/,
  );
  assert.deepEqual(await readdir(dir).then((names) => names.includes('x')), false, 'nothing written above the tree');
});
