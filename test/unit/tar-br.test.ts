/**
 * deps.tar.br: the writer (src/archive/tar-br.ts) read back by GNU tar, byte-identical rebuilds, its disk estimate
 * against `du`, and the handler's reader (src/handler/tar-extract.ts) on good and hostile archives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { ArchiveEntry } from '../../src/archive/archive-entry.js';
import { diskUsage } from '../../src/archive/disk-usage.js';
import { measureTarBr, writeTarBr } from '../../src/archive/tar-br.js';
import { ArchiveError, extractTarBr } from '../../src/handler/tar-extract.js';

async function tmp(t: import('node:test').TestContext, name = 'tar-br') {
  const dir = await mkdtemp(join(tmpdir(), `lambda-ml-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Compressible but not trivial text, so brotli at quality 9 stays quick in tests. */
const text = (seed: number, bytes: number) => {
  let out = '';
  for (let i = 0; out.length < bytes; i++)
    out += `line ${seed}:${i} ${((seed * 7919 + i * 104729) % 65521).toString(36)}\n`;
  return Buffer.from(out.slice(0, bytes));
};

const LONG = `${'a-very-long-folder-name/'.repeat(6)}and-a-file-name-past-the-ustar-limit.js`;
const UNICODE = 'node_modules/ünïcödé/日本語.js';

/** A small deps tree on disk: files, an executable, a long (PAX) name, a unicode name, symlinks. */
async function makeTree(root: string): Promise<ArchiveEntry[]> {
  const files: [string, Buffer, boolean][] = [
    ['node_modules/pkg/package.json', Buffer.from('{"name":"pkg","version":"1.0.0"}'), false],
    ['node_modules/pkg/index.js', text(1, 20_000), false],
    ['node_modules/pkg/bin/run.sh', Buffer.from('#!/bin/sh\necho hi\n'), true],
    ['node_modules/pkg/empty.txt', Buffer.alloc(0), false],
    [`node_modules/pkg/${LONG}`, text(2, 3000), false],
    [UNICODE, text(3, 100), false],
    // Over 8 MiB: streamed by the writer, not read whole (repetitive, so brotli at quality 9 stays quick).
    ['node_modules/big/blob.js', Buffer.alloc(9 * 1024 * 1024, 'const x = 1;\n'), false],
  ];
  const entries: ArchiveEntry[] = [];
  for (const [path, data, executable] of files) {
    const abs = join(root, path);
    await mkdir(join(abs, '..'), { recursive: true });
    await writeFile(abs, data);
    await chmod(abs, executable ? 0o775 : 0o600); // odd modes: the archive must normalise them
    entries.push({ path, kind: 'file', source: abs, executable, bytes: data.length });
  }
  entries.push({ path: 'node_modules/.bin/run', kind: 'symlink', link: '../pkg/bin/run.sh' });
  entries.push({ path: 'node_modules/pkg/self', kind: 'symlink', link: '.' });
  entries.push({ path: 'node_modules/empty-dir', kind: 'dir' });
  return entries;
}

test('one tar.br that GNU tar reads: sorted, mtime 0, uid/gid 0, modes 0644/0755, PAX names, symlinks', async (t) => {
  const dir = await tmp(t);
  const entries = await makeTree(join(dir, 'src'));
  const out = join(dir, 'deps.tar.br');
  const result = await writeTarBr(entries, out);
  const archive = await readFile(out);
  assert.equal(result.bytes, archive.length);
  assert.equal(result.sha256, createHash('sha256').update(archive).digest('hex'));
  assert.equal(result.sha256Base64, createHash('sha256').update(archive).digest('base64'));
  const tar = brotliDecompressSync(archive);
  assert.equal(result.tarBytes, tar.length);
  await writeFile(join(dir, 'deps.tar'), tar);
  const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', join(dir, 'deps.tar')], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
  });
  const lines = listing.trim().split('\n');
  const names = lines.map((l) => l.split(/\s+/).slice(5).join(' '));
  const expected = [
    'node_modules/',
    'node_modules/.bin/',
    'node_modules/.bin/run -> ../pkg/bin/run.sh',
    'node_modules/big/',
    'node_modules/big/blob.js',
    'node_modules/empty-dir/',
    'node_modules/pkg/',
    ...LONG.split('/')
      .slice(0, -1)
      .map((_, i, parts) => `node_modules/pkg/${parts.slice(0, i + 1).join('/')}/`),
    `node_modules/pkg/${LONG}`,
    'node_modules/pkg/bin/',
    'node_modules/pkg/bin/run.sh',
    'node_modules/pkg/empty.txt',
    'node_modules/pkg/index.js',
    'node_modules/pkg/package.json',
    'node_modules/pkg/self -> .',
    'node_modules/ünïcödé/',
    `${UNICODE}`,
  ];
  assert.deepEqual(names, expected);
  for (const line of lines) {
    const [mode, owner, , date, time] = line.split(/\s+/);
    assert.equal(owner, '0/0', line);
    assert.equal(`${date} ${time}`, '1970-01-01 00:00:00', line);
    const want = { d: 'drwxr-xr-x', l: 'lrwxrwxrwx', '-': line.endsWith('run.sh') ? '-rwxr-xr-x' : '-rw-r--r--' };
    assert.equal(mode, want[mode[0] as keyof typeof want], line);
  }
  const fileBytes = entries.reduce((n, e) => n + (e.bytes ?? 0) + Buffer.byteLength(e.link ?? ''), 0);
  assert.equal(result.unpackedBytes, fileBytes);
  assert.equal(result.entries, lines.length);
  assert.equal(result.files, lines.filter((l) => !l.startsWith('d')).length);
  // GNU tar extracts it to the same bytes.
  const extracted = join(dir, 'gnu');
  await mkdir(extracted);
  execFileSync('tar', ['-xf', join(dir, 'deps.tar'), '-C', extracted]);
  assert.deepEqual(
    await readFile(join(extracted, 'node_modules/pkg', LONG)),
    await readFile(join(dir, 'src/node_modules/pkg', LONG)),
  );
  assert.equal(await readlink(join(extracted, 'node_modules/.bin/run')), '../pkg/bin/run.sh');
});

test('byte-identical across builds: other mtimes, modes, input order and umask give the same archive', async (t) => {
  const dir = await tmp(t);
  const a = await makeTree(join(dir, 'a'));
  const b = await makeTree(join(dir, 'b'));
  for (const e of b) if (e.source) await utimes(e.source, new Date(2001, 1, 1), new Date(2020, 5, 5));
  await chmod(join(dir, 'b/node_modules/pkg/index.js'), 0o666);
  const first = await writeTarBr(a, join(dir, 'a.tar.br'));
  const oldMask = process.umask(0o077);
  let second;
  try {
    second = await writeTarBr([...b].reverse(), join(dir, 'b.tar.br'));
  } finally {
    process.umask(oldMask);
  }
  assert.equal(second.sha256, first.sha256);
  assert.deepEqual(await readFile(join(dir, 'a.tar.br')), await readFile(join(dir, 'b.tar.br')));
  const measured = await measureTarBr(a);
  assert.deepEqual(measured, first);
  assert.deepEqual(await readdir(dir), ['a', 'a.tar.br', 'b', 'b.tar.br'], 'no temp file left beside the outputs');
});

test('bad entries are refused before anything is written; a failed write leaves no temp file', async (t) => {
  const dir = await tmp(t);
  const cases: [ArchiveEntry[], RegExp][] = [
    [[{ path: '../x', kind: 'file', data: Buffer.from('x') }], /unsafe path \("\.\." segment\)/],
    [[{ path: '/etc/x', kind: 'file', data: Buffer.from('x') }], /unsafe path \(absolute\)/],
    [[{ path: 'a//b', kind: 'file', data: Buffer.from('x') }], /empty or "\." segment/],
    [
      [
        { path: 'a', kind: 'file', data: Buffer.from('x') },
        { path: 'a', kind: 'file', data: Buffer.from('y') },
      ],
      /listed twice/,
    ],
    [
      [
        { path: 'a', kind: 'file', data: Buffer.from('x') },
        { path: 'a/b', kind: 'file', data: Buffer.from('y') },
      ],
      /both a file and a folder/,
    ],
    [[{ path: 'gone.js', kind: 'file', source: join(dir, 'missing.js') }], /ENOENT/],
  ];
  for (const [entries, pattern] of cases) {
    await assert.rejects(writeTarBr(entries, join(dir, 'out.tar.br')), pattern);
    assert.deepEqual(await readdir(dir), [], `nothing left after ${pattern}`);
  }
});

test('diskUsage: at least what `du` reports for the extracted tree, and within 10% of it (ext4 here)', async (t) => {
  const dir = await tmp(t);
  const entries: ArchiveEntry[] = [];
  for (let i = 0; i < 700; i++)
    entries.push({
      path: `node_modules/p${i % 7}/f${i}.js`,
      kind: 'file',
      data: Buffer.alloc(300 + ((i * 977) % 9000), `file ${i} `),
    });
  for (let i = 0; i < 5; i++)
    entries.push({ path: `node_modules/.bin/l${i}`, kind: 'symlink', link: `../p${i}/f${i}.js` });
  entries.push({ path: 'node_modules/.bin/long', kind: 'symlink', link: `../p1/${'x'.repeat(80)}` });
  const result = await writeTarBr(entries, join(dir, 'deps.tar.br'));
  assert.equal(result.diskBytes, diskUsage(entries.map((e) => ({ ...e, bytes: e.data?.length }))));
  const dest = join(dir, 'out');
  await mkdir(dest);
  await extractTarBr([await readFile(join(dir, 'deps.tar.br'))], dest, 'deps.tar.br', {
    unpackedBytes: result.unpackedBytes,
    entries: result.entries,
  });
  const du = Number(execFileSync('du', ['-sB1', dest], { encoding: 'utf8' }).split('\t')[0]);
  const fileBytes = result.unpackedBytes;
  assert.ok(du > fileBytes * 1.3, `the 4 KiB blocks (${du}) are well above the file bytes (${fileBytes})`);
  assert.ok(result.diskBytes >= du, `estimate ${result.diskBytes} >= du ${du}`);
  assert.ok(result.diskBytes <= du * 1.1, `estimate ${result.diskBytes} within 10% of du ${du}`);
});

/** A tar.br built by hand with tar-stream, to say what our writer never would. */
async function handmade(entries: { header: Parameters<ReturnType<typeof pack>['entry']>[0]; data?: Buffer }[]) {
  const tar = pack();
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of tar) chunks.push(chunk as Buffer);
  })();
  for (const { header, data } of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (data) tar.entry(header, data, done);
      else tar.entry(header, done);
    });
  }
  tar.finalize();
  await reading;
  return brotliCompressSync(Buffer.concat(chunks));
}

const file = (name: string, data = 'x') => ({
  header: { name, type: 'file' as const, size: data.length },
  data: Buffer.from(data),
});
const link = (name: string, linkname: string) => ({ header: { name, type: 'symlink' as const, linkname } });

test('extractTarBr restores files, modes, folders and symlinks, and streams a file bigger than a chunk', async (t) => {
  const dir = await tmp(t);
  const entries = await makeTree(join(dir, 'src'));
  const result = await writeTarBr(entries, join(dir, 'deps.tar.br'));
  const dest = join(dir, 'out');
  await mkdir(dest);
  // Fed in small pieces, as a network body arrives.
  const archive = await readFile(join(dir, 'deps.tar.br'));
  const pieces = Array.from({ length: Math.ceil(archive.length / 7001) }, (_, i) =>
    archive.subarray(i * 7001, (i + 1) * 7001),
  );
  const stats = await extractTarBr(pieces, dest, 'deps.tar.br', {
    unpackedBytes: result.unpackedBytes,
    entries: result.entries,
  });
  const fileBytes = entries.reduce((n, e) => n + (e.kind === 'file' ? (e.bytes ?? 0) : 0), 0);
  assert.deepEqual(stats, { files: 7, dirs: result.entries - 9, symlinks: 2, bytes: fileBytes });
  for (const e of entries.filter((x) => x.kind === 'file')) {
    const out = join(dest, e.path);
    assert.deepEqual(await readFile(out), await readFile(e.source as string), e.path);
    assert.equal((await lstat(out)).mode & 0o777, e.executable ? 0o755 : 0o644, e.path);
  }
  assert.equal(await readlink(join(dest, 'node_modules/.bin/run')), '../pkg/bin/run.sh');
  assert.equal(await readFile(join(dest, 'node_modules/.bin/run'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.ok((await lstat(join(dest, 'node_modules/empty-dir'))).isDirectory());
});

// Each row: what a hostile or broken archive holds, and the error extractTarBr must give.
const HOSTILE: {
  name: string;
  build: () => Promise<Buffer>;
  limits?: { unpackedBytes: number; entries: number };
  error: RegExp;
}[] = [
  {
    name: 'an absolute path',
    build: () => handmade([file('/etc/evil')]),
    error: /refusing unsafe entry path "\/etc\/evil"/,
  },
  { name: 'a ".." path', build: () => handmade([file('a/../../evil')]), error: /refusing unsafe entry path/ },
  {
    name: 'a symlink out of the tree',
    build: () => handmade([link('a', '../../etc')]),
    error: /symlink a -> \.\.\/\.\.\/etc points outside/,
  },
  {
    name: 'an absolute symlink',
    build: () => handmade([link('a', '/etc/passwd')]),
    error: /points outside the extracted tree/,
  },
  {
    name: 'a link under a link (a -> ., a/b -> ../x lands outside)',
    build: () => handmade([link('a', '.'), link('a/b', '../x')]),
    error: /lies under a symlink of the archive|sits under another symlink/,
  },
  {
    name: 'a file under a symlink',
    build: () => handmade([link('d', 'real'), file('d/x')]),
    error: /lies under a symlink/,
  },
  {
    name: 'a hard link',
    build: () => handmade([file('a'), { header: { name: 'b', type: 'link', linkname: 'a' } }]),
    error: /entry "b" is a link/,
  },
  {
    name: 'a device',
    build: () => handmade([{ header: { name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 } }]),
    error: /"dev" is a character-device/,
  },
  {
    name: 'the same file twice',
    build: () => handmade([file('a'), file('a')]),
    error: /entry "a" is in the archive twice/,
  },
  {
    name: 'more bytes than packaged (a bomb)',
    build: () => handmade([file('a', 'x'.repeat(5000))]),
    limits: { unpackedBytes: 4999, entries: 10 },
    error: /unpacks to more than the 4999 bytes it was packaged with \(at "a"\)/,
  },
  {
    name: 'more entries than packaged',
    build: () => handmade([file('a'), file('b'), file('c')]),
    limits: { unpackedBytes: 100, entries: 2 },
    error: /holds more than the 2 entries it was packaged with/,
  },
  {
    name: 'not brotli',
    build: async () => Buffer.from('this is not brotli at all'),
    error: /is corrupt: brotli could not decompress it/,
  },
  {
    name: 'brotli of a truncated tar',
    build: async () =>
      brotliCompressSync(brotliDecompressSync(await handmade([file('a', 'x'.repeat(3000))])).subarray(0, 1200)),
    error: /is corrupt: not a whole tar stream \(Unexpected end of data\)/,
  },
  {
    name: 'a cut brotli stream',
    build: async () => (await handmade([file('a', text(9, 50_000).toString())])).subarray(0, 300),
    error: /is corrupt: brotli could not decompress it/,
  },
];

for (const row of HOSTILE) {
  test(`extractTarBr refuses ${row.name}`, async (t) => {
    const dir = await tmp(t, 'hostile');
    const dest = join(dir, 'dest');
    await mkdir(dest);
    const archive = await row.build();
    await assert.rejects(
      extractTarBr([archive], dest, 'deps.tar.br from test', row.limits ?? { unpackedBytes: 1_000_000, entries: 100 }),
      (error: Error) => {
        assert.match(error.message, row.error);
        assert.ok(error instanceof ArchiveError, `${error.name}: ${error.message}`);
        assert.match(error.message, /^deps\.tar\.br from test: /);
        return true;
      },
    );
    assert.deepEqual(await readdir(dir), ['dest'], 'nothing written beside the destination');
  });
}
