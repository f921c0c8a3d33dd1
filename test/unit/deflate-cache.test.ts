/**
 * The deflate cache (src/archive/deflate-cache.ts, docs/design.md "The deflate cache"): a zip written or measured
 * through it is byte for byte the zip written without it, cold or warm, for every kind of entry; a damaged entry is
 * refused with one clear line and nothing left behind; a changed file misses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFLATE_CACHE_MIN_BYTES, openDeflateCache } from '../../src/archive/deflate-cache.js';
import { STREAM_THRESHOLD } from '../../src/archive/zip-entry.js';
import { measureZip, writeZip, type ZipEntry } from '../../src/archive/zip-writer.js';
import { LambdaMlError } from '../../src/lib/errors.js';

let dir: string;
let entries: ZipEntry[];

/** Text-like bytes: compressible, but not trivially (so deflate takes real work and real bytes). */
function texty(bytes: number, seed: number): Buffer {
  const words = ['lambda', 'tensor', 'layer', 'sharp', 'vips', 'conv2d', 'relu', 'softmax', 'bucket', 'object'];
  const parts: string[] = [];
  let length = 0;
  let x = seed;
  while (length < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    const word = `${words[x % words.length]}${x % 97} `;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

// One of each path through the cache: below its threshold, cached in memory, incompressible (stored), streamed.
const FILES: Record<string, () => Buffer> = {
  'small.txt': () => texty(200 * 1024, 1),
  'mid.txt': () => texty(3 * 1024 * 1024, 2),
  'random.bin': () => randomBytes(2 * 1024 * 1024),
  'large.txt': () => texty(STREAM_THRESHOLD + 1024 * 1024, 3),
};
const CACHEABLE = ['mid.txt', 'large.txt']; // the stored one has a record but no payload to copy

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deflate-cache-test-'));
  entries = [{ path: 'src/', kind: 'dir' }];
  for (const [name, make] of Object.entries(FILES)) {
    const source = join(dir, name);
    await writeFile(source, make());
    entries.push({ path: `src/${name}`, kind: 'file', source });
  }
});
after(() => rm(dir, { recursive: true, force: true }));

/** Every payload file of a cache folder, sorted by the size of the file it came from (smallest first). */
async function payloads(cacheDir: string): Promise<string[]> {
  const found: { path: string; size: number }[] = [];
  for (const level of await readdir(cacheDir)) {
    for (const shard of await readdir(join(cacheDir, level))) {
      for (const file of await readdir(join(cacheDir, level, shard))) {
        if (!file.endsWith('.bin')) continue;
        const path = join(cacheDir, level, shard, file);
        const record = JSON.parse(await readFile(path.replace(/\.bin$/, '.json'), 'utf8')) as { size: number };
        found.push({ path, size: record.size });
      }
    }
  }
  return found.sort((a, b) => a.size - b.size).map((f) => f.path);
}

test('the thresholds: files below 1 MiB are not cached; the large file is over the streaming threshold', () => {
  assert.equal(DEFLATE_CACHE_MIN_BYTES, 1024 * 1024);
  assert.ok(FILES['large.txt']().length > STREAM_THRESHOLD);
});

test('through the cache, cold then warm, the zip is byte for byte the zip written without it', async () => {
  const cacheDir = join(dir, 'cache-a');
  const plain = await writeZip(entries, join(dir, 'plain.zip'));
  assert.equal(plain.cachedEntries, 0);
  const cold = await writeZip(entries, join(dir, 'cold.zip'), { cacheDir });
  const warm = await writeZip(entries, join(dir, 'warm.zip'), { cacheDir });
  const measured = await measureZip(entries, { cacheDir });
  for (const [name, got] of [
    ['cold', cold],
    ['warm', warm],
    ['measured', measured],
  ] as const) {
    assert.equal(got.sha256, plain.sha256, `${name}: same bytes`);
    assert.equal(got.bytes, plain.bytes, `${name}: same size`);
  }
  assert.equal(cold.cachedEntries, CACHEABLE.length, 'cold: the deflated big files were stored');
  assert.equal(warm.cachedEntries, CACHEABLE.length, 'warm: and copied from the cache');
  const a = await readFile(join(dir, 'plain.zip'));
  assert.ok(a.equals(await readFile(join(dir, 'warm.zip'))));
  const test = execFileSync('unzip', ['-t', join(dir, 'warm.zip')], { encoding: 'utf8' });
  assert.match(test, /No errors detected/);
  const levels = await readdir(cacheDir);
  assert.equal(levels.length, 1);
  assert.match(levels[0], /^z[\d.]+(-[\w.]+)?-l9$/, 'keyed by the zlib version and the level');
});

test('another level is another key: level 6 through the cache equals level 6 without it', async () => {
  const cacheDir = join(dir, 'cache-b');
  await writeZip(entries, join(dir, 'l9.zip'), { cacheDir });
  const plain = await measureZip(entries, { level: 6 });
  const cached = await measureZip(entries, { level: 6, cacheDir });
  assert.equal(cached.sha256, plain.sha256);
  assert.equal((await readdir(cacheDir)).length, 2);
});

test('a damaged payload is a miss: deflated afresh, the zip unchanged, the entry replaced', async () => {
  const cacheDir = join(dir, 'cache-c');
  const plain = await writeZip(entries, join(dir, 'plain-c.zip'), { cacheDir });
  const bins = await payloads(cacheDir);
  assert.equal(bins.length, CACHEABLE.length);
  const before = new Map<string, Buffer>();
  for (const bin of bins) {
    const bytes = await readFile(bin);
    before.set(bin, Buffer.from(bytes));
    bytes[bytes.length >> 1] ^= 0xff; // same size, one byte flipped
    await writeFile(bin, bytes);
  }
  const out = join(dir, 'damaged.zip');
  const again = await writeZip(entries, out, { cacheDir });
  assert.equal(again.sha256, plain.sha256, 'deflated afresh');
  assert.match(execFileSync('unzip', ['-t', out], { encoding: 'utf8' }), /No errors detected/);
  for (const [bin, bytes] of before) assert.ok((await readFile(bin)).equals(bytes), `${bin} written again`);
});

test('a payload that changes between its check and its copy: one clear line, no zip, no temp file', async () => {
  const cacheDir = join(dir, 'cache-f');
  await writeZip(entries, join(dir, 'plain-f.zip'), { cacheDir });
  const cache = openDeflateCache(cacheDir);
  const [bin] = await payloads(cacheDir);
  const sha = basename(bin, '.bin');
  const level = 9;
  const hit = await cache.lookup(sha, FILES['mid.txt']().length, level);
  assert.ok(hit?.payloadPath === bin, 'the mid file is the first payload');
  const bytes = await readFile(bin);
  bytes[0] ^= 0xff;
  await writeFile(bin, bytes);
  const sink: Buffer[] = [];
  await assert.rejects(
    cache.copy(hit, async (chunk) => void sink.push(chunk)),
    (error: unknown) => {
      assert.ok(error instanceof LambdaMlError);
      assert.match(error.message, /^deflate cache entry .*\.bin is damaged \(its bytes do not match its record/);
      assert.match(error.hint ?? '', /run again/);
      return true;
    },
  );
  assert.equal(existsSync(bin), false, 'the entry was removed, so the next run deflates it again');
});

test('a cut or foreign record is a miss, not an error', async () => {
  const cacheDir = join(dir, 'cache-d');
  const plain = await writeZip(entries, join(dir, 'plain-d.zip'), { cacheDir });
  for (const bin of await payloads(cacheDir)) await writeFile(bin.replace(/\.bin$/, '.json'), '{"method": 8, "crc"');
  const again = await measureZip(entries, { cacheDir });
  assert.equal(again.sha256, plain.sha256);
});

test('a file changed in place (same size) misses the cache and gives its own bytes', async () => {
  const cacheDir = join(dir, 'cache-e');
  const source = join(dir, 'changing.txt');
  await writeFile(source, texty(2 * 1024 * 1024, 10));
  const one: ZipEntry[] = [{ path: 'changing.txt', kind: 'file', source }];
  await writeZip(one, join(dir, 'e1.zip'), { cacheDir });
  await writeFile(source, texty(2 * 1024 * 1024, 11));
  const plain = await measureZip(one);
  const cached = await writeZip(one, join(dir, 'e2.zip'), { cacheDir });
  assert.equal(cached.sha256, plain.sha256);
  const listed = execFileSync('unzip', ['-p', join(dir, 'e2.zip'), 'changing.txt'], { maxBuffer: 8 << 20 });
  assert.ok(listed.equals(await readFile(source)));
});

test('an unwritable cache folder only makes the run slower', async () => {
  const blocker = join(dir, 'not-a-folder');
  await writeFile(blocker, 'x');
  const plain = await measureZip(entries);
  const got = await measureZip(entries, { cacheDir: join(blocker, 'cache') });
  assert.equal(got.sha256, plain.sha256);
  assert.equal(got.cachedEntries, 0);
});
