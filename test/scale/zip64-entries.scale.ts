/**
 * Zip64 by entry count (a scale test, `npm run test:scale`): more than 65,535 entries need the Zip64 end records,
 * checked by unzip, Python's zipfile and our own reader.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ZipEntry } from '../../src/archive/zip-entry.js';
import { inspectZip } from '../../src/archive/zip-inspect.js';
import { writeZip } from '../../src/archive/zip-writer.js';

const tempDir = async (t: { after: (fn: () => Promise<void>) => void }) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-zip64-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

test('70,000 entries use a Zip64 end record and still pass unzip -t', async (t) => {
  const dir = await tempDir(t);
  const inputs: ZipEntry[] = [];
  for (let i = 0; i < 70_000; i++)
    inputs.push({ path: `d${i % 100}/f${i}.txt`, kind: 'file', data: Buffer.from(`${i}\n`) });
  for (let i = 0; i < 100; i++) inputs.push({ path: `d${i}`, kind: 'dir' });
  const out = join(dir, 'many.zip');
  const result = await writeZip(inputs, out, { concurrency: 16 });
  assert.equal(result.entries, 70_100);
  assert.equal(result.files, 70_000);
  execFileSync('unzip', ['-tq', out]);
  const count = execFileSync(
    'python3',
    ['-c', 'import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))', out],
    { encoding: 'utf8' },
  );
  assert.equal(count.trim(), '70100');
  const listed = await inspectZip(out);
  assert.equal(listed.entries.length, 70_100);
  assert.equal(listed.files, 70_000);
});
