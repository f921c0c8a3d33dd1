/** `lambda-ml demo` as a real process from the repo root: budget, package, s3rver, invoke, tags (~30 s a run). */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { hasAnsi, REPO_ROOT, runBin } from '../helpers/cli.js';
import { assertOneLineError, tempDir, withoutSdkWarning } from '../helpers/cli-procs.js';

type Tag = { Key: string; Value: string };
const tagMap = (tags: readonly Tag[]) => Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));

test('demo --json: three photos get ml:safety and ml:colors, the baboon keeps its owner tag; plan bundle', async () => {
  const result = await runBin(['demo', '--json'], { cwd: REPO_ROOT });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(withoutSdkWarning(result.stderr), '', 'under --json nothing but the document is printed');
  const body = JSON.parse(result.stdout);
  assert.equal(body.ok, true);
  assert.equal(body.budget.plan, 'bundle');
  assert.equal(body.budget.fits, true);
  assert.equal(body.manifest.plan, 'bundle');
  assert.equal(typeof body.invoke.coldStart.firstInvocationMs, 'number');
  assert.equal(typeof body.invoke.coldStart.modelLoad.safety, 'number');
  assert.deepEqual(
    body.photos.map((p: { key: string }) => p.key),
    ['images/baboon.png', 'images/meadow and sky.jpg', 'images/sunset.png'],
  );
  for (const photo of body.photos) {
    const tags = tagMap(photo.tags);
    assert.ok(tags['ml:safety'], `${photo.key}: ml:safety`);
    assert.match(tags['ml:colors'] ?? '', /^[a-z]+( [a-z]+)*$/, `${photo.key}: ml:colors`);
  }
  assert.equal(tagMap(body.photos[0].tags).owner, 'marketing', "the user's own tag is merged, not replaced");
  // the generated meadow is blue over green: the colour names say so
  assert.match(tagMap(body.photos[1].tags)['ml:colors'], /blue/);
  assert.match(tagMap(body.photos[1].tags)['ml:colors'], /green/);
});

test('demo --images DIR: your own photos (two JPEGs made with sharp), human output lists their tags', async (t) => {
  const dir = await tempDir(t, 'lambda-ml-demo-images-');
  const images = join(dir, 'photos');
  await mkdir(images);
  const solid = (r: number, g: number, b: number) =>
    sharp({ create: { width: 200, height: 150, channels: 3, background: { r, g, b } } })
      .jpeg()
      .toBuffer();
  await writeFile(join(images, 'red.jpg'), await solid(255, 0, 0));
  await writeFile(join(images, 'teal.jpg'), await solid(0, 128, 128));
  await writeFile(join(images, 'readme.txt'), 'not a photo');
  const result = await runBin(['demo', '--images', images], { cwd: REPO_ROOT });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!hasAnsi(result.stdout));
  assert.match(result.stdout, /^Packaged bundle: function\.zip /m);
  assert.match(result.stdout, /^Classified locally \(s3rver on http:\/\/127\.0\.0\.1:\d+; cold start \d+ ms\)$/m);
  const section = result.stdout.slice(result.stdout.indexOf('Classified locally'));
  assert.match(section, /^ {2}images\/red\.jpg\n {4}owner +marketing\n(?: {4}ml:\S+ +.+\n)+/m);
  assert.match(section, /^ {2}images\/teal\.jpg\n(?: {4}ml:\S+ +.+\n)+/m);
  assert.match(section, /^ {4}ml:colors +red$/m);
  assert.match(section, /^ {4}ml:colors +teal$/m);
  assert.ok(!section.includes('readme.txt'), 'only image files are uploaded');
  assert.ok(!section.includes('(no tags)'));
  assert.match(withoutSdkWarning(result.stderr), /^› budget…$/m, 'progress goes to stderr');
});

test('demo --images with no photos exits 2 with one line', async (t) => {
  const dir = await tempDir(t, 'lambda-ml-demo-images-');
  await writeFile(join(dir, 'notes.txt'), 'nothing to see');
  const result = await runBin(['demo', '--images', dir], { cwd: REPO_ROOT });
  assert.equal(result.code, 2);
  assertOneLineError(
    withoutSdkWarning(result.stderr)
      .split('\n')
      .filter((line) => !line.startsWith('› '))
      .join('\n'),
    /no \.jpg\/\.png\/\.webp files/,
  );
});
