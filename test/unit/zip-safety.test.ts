/**
 * Unsafe zips (src/lib/zip-safety.ts): the checks as tables, then real archives read by the real readers (yauzl for
 * local layer zips and inspectZip; unzip and Python's zipfile agree on what the forged archives declare).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { LambdaMlError } from '../../src/lib/errors.js';
import { checkLinkTarget, checkZipEntry, checkZipTotal, DEFLATE_MAX_RATIO } from '../../src/lib/zip-safety.js';
import { inspectZip } from '../../src/archive/zip-inspect.js';
import { scanLayerZip } from '../../src/scan/layers.js';
import { forgeZip, symlinkEntry } from '../helpers/forged-zip.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-zip-safety-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const DEFLATE = 8;
const STORED = 0;

// [name, bytes, compressed, method, encrypted, problem (regex) or null]
const ENTRIES: readonly [string, number, number, number, boolean, RegExp | null][] = [
  ['ok.bin', 1000, 400, DEFLATE, false, null],
  ['empty.txt', 0, 2, DEFLATE, false, null],
  ['at-the-ceiling.bin', 1032 * 500, 500, DEFLATE, false, null],
  [
    'over-the-ceiling.bin',
    1032 * 500 + 1,
    500,
    DEFLATE,
    false,
    /declares 516,001 bytes unzipped from 500 bytes compressed, more than deflate can produce \(1,032×\)/,
  ],
  [
    'bomb.bin',
    8_600_000_000,
    114,
    DEFLATE,
    false,
    /"bomb\.bin" declares 8,600,000,000 bytes unzipped from 114 bytes compressed/,
  ],
  ['nothing-compressed.bin', 10, 0, DEFLATE, false, /from 0 bytes compressed/],
  ['stored.bin', 1234, 1234, STORED, false, null],
  [
    'stored-lies.bin',
    10_000_000,
    10,
    STORED,
    false,
    /is stored uncompressed but declares 10,000,000 bytes unzipped from 10 bytes compressed \(they must be equal\)/,
  ],
  ['stored-encrypted.bin', 100, 112, STORED, true, null],
  ['other-method.bin', 10_000_000, 10, 12, false, null], // bzip2 etc.: not judged by deflate's ceiling
  ['../escape.txt', 1, 1, STORED, false, /entry "\.\.\/escape\.txt" escapes the archive \(contains a "\.\." segment\)/],
  ['/etc/cron.d/x', 1, 1, STORED, false, /escapes the archive \(absolute path\)/],
  ['C:/x', 1, 1, STORED, false, /drive-letter path/],
];

test('entries: names that escape, sizes deflate cannot produce, stored sizes that differ (a table)', () => {
  for (const [name, bytes, compressedBytes, method, isEncrypted, want] of ENTRIES) {
    const problem = checkZipEntry({ name, bytes, compressedBytes, method, isEncrypted });
    if (want === null) assert.equal(problem, null, name);
    else assert.match(problem?.message ?? '(no problem found)', want, name);
  }
});

test("deflate's ceiling holds for the most compressible data there is (zeros, level 9)", () => {
  for (const size of [1_000, 1_000_000, 50_000_000]) {
    const compressed = deflateRawSync(Buffer.alloc(size), { level: 9 }).length;
    assert.ok(size <= DEFLATE_MAX_RATIO * compressed, `${size} zeros deflate to ${compressed} bytes`);
    assert.equal(checkZipEntry({ name: 'zeros', bytes: size, compressedBytes: compressed, method: DEFLATE }), null);
  }
});

test('the declared total against the zip file itself (a table)', () => {
  const rows: [number, number, RegExp | null][] = [
    [1032 * 420, 420, null],
    [8_600_000_000, 420, /entries declare 8,600,000,000 bytes unzipped in total from a 420-byte zip/],
    [2_001_000_000, 119_991, /from a 119,991-byte zip, more than deflate can produce/],
  ];
  for (const [total, zipBytes, want] of rows) {
    const problem = checkZipTotal(total, zipBytes);
    if (want === null) assert.equal(problem, null);
    else assert.match(problem?.message ?? '', want);
  }
});

test('symlink targets: inside the archive is fine; absolute or climbing out is refused (a table)', () => {
  const rows: [string, string, boolean][] = [
    ['nodejs/node_modules/.bin/tsc', '../typescript/bin/tsc', false],
    ['python/lib/libz.so', 'libz.so.1', false],
    ['a/b/c', '../../x', false],
    ['a/b/c', '../../../x', true],
    ['passwd', '/etc/passwd', true],
    ['nodejs/node_modules/x', '../../../etc/shadow', true],
    ['x', '..', true],
    ['a/x', 'C:\\Windows', true],
    ['a/x', '..\\..\\etc', true],
  ];
  for (const [name, target, escapes] of rows) {
    const problem = checkLinkTarget(name, target);
    assert.equal(problem !== null, escapes, `${name} -> ${target}`);
    if (problem)
      assert.match(
        problem.message,
        new RegExp(`is a symlink to "${target.replace(/[\\.]/g, '\\$&')}", outside the archive`),
      );
  }
});

/** A layer zip error: an input error (exit 2) that starts with the file and names the layer. */
async function rejectsLayer(file: string, want: RegExp): Promise<void> {
  await assert.rejects(scanLayerZip('evil', file), (error: unknown) => {
    assert.ok(error instanceof LambdaMlError, String(error));
    assert.equal(error.code, 'input');
    assert.ok(error.message.startsWith(`${file} (layer "evil"): `), error.message);
    assert.match(error.message, want);
    assert.ok(error.hint);
    return true;
  });
}

test('layer zips: links to /etc/passwd and .., a 420-byte zip declaring 8.6 GB, overlapping entries', async (t) => {
  const dir = tempDir(t);
  const write = (name: string, zip: Buffer) => {
    writeFileSync(join(dir, name), zip);
    return join(dir, name);
  };
  const passwd = write(
    'passwd.zip',
    forgeZip([
      { name: 'nodejs/node_modules/a/index.js', data: 'x' },
      symlinkEntry('nodejs/node_modules/passwd', '/etc/passwd'),
    ]),
  );
  // the real readers see a symlink there
  assert.match(
    execFileSync('zipinfo', [passwd], { encoding: 'utf8' }),
    /^lrwxrwxrwx .* nodejs\/node_modules\/passwd$/m,
  );
  await rejectsLayer(
    passwd,
    /entry "nodejs\/node_modules\/passwd" is a symlink to "\/etc\/passwd", outside the archive/,
  );
  const dotdot = write('dotdot.zip', forgeZip([symlinkEntry('python/lib/etc', '../../../etc')]));
  await rejectsLayer(dotdot, /entry "python\/lib\/etc" is a symlink to "\.\.\/\.\.\/\.\.\/etc"/);
  const bomb = write(
    'bomb.zip',
    forgeZip([
      { name: 'python/ok.py', data: 'x = 1\n' },
      { name: 'big.bin', data: Buffer.alloc(100_000), declaredBytes: 8_600_000_000 },
    ]),
  );
  const declared = execFileSync(
    'python3',
    ['-c', 'import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))', bomb],
    { encoding: 'utf8' },
  );
  assert.equal(Number(declared), 8_600_000_006, 'Python reads the declared 8.6 GB');
  await rejectsLayer(
    bomb,
    /entry "big\.bin" declares 8,600,000,000 bytes unzipped from \d+ bytes compressed, more than deflate can produce/,
  );
  const overlap = write(
    'overlap.zip',
    forgeZip([{ name: 'zeros.bin', data: Buffer.alloc(1_000_000) }], { repeatFirst: 2000 }),
  );
  await rejectsLayer(overlap, /its entries declare 2,001,000,000 bytes unzipped in total from a [\d,]+-byte zip/);
  const stored = write(
    'stored.zip',
    forgeZip([{ name: 'python/x.so', data: 'tiny', method: 0, declaredBytes: 10_000_000 }]),
  );
  // yauzl refuses this one itself while listing (still exit 2 naming the zip); the remote reader gets our check
  await rejectsLayer(
    stored,
    /"python\/x\.so" is stored uncompressed but declares 10,000,000 bytes|size mismatch for stored file/,
  );
  // the same checks in inspectZip (package's reader of zips)
  await assert.rejects(inspectZip(bomb), /big\.bin" declares 8,600,000,000 bytes/);
  await assert.rejects(inspectZip(overlap), /in total from a/);
});

test('a layer zip made by zip -y with links that stay inside is measured as before', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'nodejs/node_modules/a/lib'), { recursive: true });
  writeFileSync(join(src, 'nodejs/node_modules/a/package.json'), JSON.stringify({ name: 'a', version: '1.0.0' }));
  writeFileSync(join(src, 'nodejs/node_modules/a/lib/index.js'), 'module.exports = 1;\n');
  symlinkSync('lib/index.js', join(src, 'nodejs/node_modules/a/main.js'));
  execFileSync('zip', ['-qry', join(dir, 'ok.zip'), 'nodejs'], { cwd: src });
  assert.match(
    execFileSync('zipinfo', [join(dir, 'ok.zip')], { encoding: 'utf8' }),
    /^l.* nodejs\/node_modules\/a\/main\.js$/m,
  );
  const layer = await scanLayerZip('ok', join(dir, 'ok.zip'));
  assert.deepEqual(
    layer.provides.map((p) => `${p.name}@${p.version}`),
    ['a@1.0.0'],
  );
  // and one made by zip -y whose link escapes is refused, like the forged one
  symlinkSync('/etc/passwd', join(src, 'nodejs/node_modules/a/passwd'));
  execFileSync('zip', ['-qry', join(dir, 'evil.zip'), 'nodejs'], { cwd: src });
  await rejectsLayer(join(dir, 'evil.zip'), /"nodejs\/node_modules\/a\/passwd" is a symlink to "\/etc\/passwd"/);
});
