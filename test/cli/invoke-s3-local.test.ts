/**
 * `invoke --local --s3-local --image FILE...` end to end on a packaged project: package's Next line pasted into
 * bash, the tags each image got, the `local` bucket without a trigger, and the server and its folder gone
 * afterwards (Ctrl-C included). The user's own AWS variables are set to values that would fail if they were used.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { ensureNodeExample } from '../../src/example/node-example.js';
import { runtimeOf } from '../../src/runtimes/table.js';
import { BIN, runBin } from '../helpers/cli.js';
import { assertOneLineError, cleanStderr, exampleProject, tempDir } from '../helpers/cli-procs.js';
import { finished, spawnBin, waitFor } from '../helpers/package-cli.js';

const RUNTIME = 'nodejs24.x';
const cleanups: (() => unknown)[] = [];
const scope = {
  after: (fn: () => unknown) => {
    cleanups.push(fn);
  },
};
after(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

let project = '';
let out = '';
let photos = '';
let nextLine = '';
// Would fail every S3 call if invoke passed them on: s3rver rejects the key, the profile does not exist, nothing
// listens on port 9.
const USER_AWS = {
  AWS_ACCESS_KEY_ID: 'AKIAUSERSOWNKEY00000',
  AWS_SECRET_ACCESS_KEY: 'users-own-secret',
  AWS_PROFILE: 'users-profile',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
};
const CONFIG = () => join(project, 'lambda-ml.config.json');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
type Tag = { Key: string; Value: string };

before(async () => {
  await ensureNodeExample();
  project = await exampleProject(scope, (config) => {
    config.function.runtime = RUNTIME;
  });
  out = join(await tempDir(scope, 'lambda-ml-s3-local-test-'), 'out dir'); // a space: the Next line must quote it
  const packaged = await runBin(['package', '--out', out], { cwd: project });
  assert.equal(packaged.code, 0, packaged.stderr);
  nextLine = packaged.stdout.trim().split('\n').pop() ?? '';
  photos = await tempDir(scope, 'lambda-ml-photos-');
  await writeFile(join(photos, 'baboon photo.png'), baboonPhoto());
  await mkdir(join(photos, 'second'));
  await writeFile(join(photos, 'second', 'baboon photo.png'), await sharp(baboonPhoto()).flop().png().toBuffer());
  await writeFile(join(photos, 'notes.jpg'), 'meeting notes, not a photo\n');
});

const ownTags = (tags: Record<string, string>) =>
  Object.fromEntries(Object.entries(tags).filter(([key]) => key.startsWith('ml:')));

test("package's Next line suggests --s3-local, quoted so it works when pasted with a photo", async (t) => {
  const quoted = `'${out}'`;
  const invoke = `lambda-ml invoke --local --s3-local --image <a photo> --out ${quoted}`;
  assert.equal(nextLine, `Next: lambda-ml deploy --out ${quoted} (or ${invoke} to try it here)`);
  const command = /\(or (lambda-ml invoke .*) to try it here\)$/.exec(nextLine)?.[1] ?? '';
  const pasted = command.replace('<a photo>', `'${join(photos, 'baboon photo.png')}'`);
  const tmp = await tempDir(t, 'lambda-ml-s3-local-tmpdir-');
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn('bash', ['-c', `lambda-ml() { "${process.execPath}" "${BIN}" "$@"; }; ${pasted}`], {
      cwd: project,
      env: { ...process.env, ...USER_AWS, TMPDIR: tmp, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(cleanStderr(result.stderr).trim(), '', "no warning: the handler ran on its runtime's Node");
  const lines = result.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^✓ invoked asset-classifier locally \(bundle, onnx, Node 24\.\d+\.\d+\)$/);
  assert.match(result.stdout, /^ {2}cold start \d+ ms: unpack \d+ ms, import \d+ ms/m);
  const steps = 'download \\d+, decode \\d+, infer safety \\d+, tag \\d+';
  const photo = escape(join(photos, 'baboon photo.png'));
  assert.match(result.stdout, new RegExp(`^ {2}${photo} {2}tagged \\d+ ms: ${steps}$`, 'm'));
  assert.match(result.stdout, /^ {4}ml:safety = (Drawing|Hentai|Neutral|Porn|Sexy)$/m);
  assert.match(result.stdout, /^ {4}ml:colors = [a-z]+( [a-z]+)*$/m);
  const ending = /^ {2}on a local S3 \(s3rver, http:\/\/127\.0\.0\.1:\d+\), stopped and removed afterwards$/;
  assert.match(lines[lines.length - 1], ending);
  assert.deepEqual(await readdir(tmp), [], 'the server folder and the task root are gone');
});

test('--json: several images (a name twice, a non-image) in the trigger prefix, with the tags they got', async (t) => {
  const tmp = await tempDir(t, 'lambda-ml-s3-local-tmpdir-');
  const images = ['baboon photo.png', 'second/baboon photo.png', 'notes.jpg'];
  const args = ['invoke', '--local', '--s3-local', '--image', ...images, '--out', out, '--config', CONFIG(), '--json'];
  const result = await runBin(args, { cwd: photos, env: { ...USER_AWS, TMPDIR: tmp } });
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.ok, true);
  assert.equal(Number(body.node.version.split('.')[0]), runtimeOf(RUNTIME).major);
  assert.match(body.s3Local.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  const placed = body.s3Local.images.map((i: Record<string, string>) => [i.file, i.bucket, i.key]);
  assert.deepEqual(placed, [
    ['baboon photo.png', 'lambda-ml-demo-assets', 'images/baboon photo.png'],
    ['second/baboon photo.png', 'lambda-ml-demo-assets', 'images/baboon photo-2.png'],
    ['notes.jpg', 'lambda-ml-demo-assets', 'images/notes.jpg'],
  ]);
  const [first, second, notes] = body.s3Local.images;
  for (const image of [first, second]) {
    assert.match(image.tags['ml:safety'], /^(Drawing|Hentai|Neutral|Porn|Sexy)$/, image.file);
    assert.match(image.tags['ml:colors'], /^[a-z]+( [a-z]+)*$/, image.file);
  }
  assert.deepEqual(ownTags(notes.tags), {}, 'the text file is not tagged');
  const results = body.invocations[0].result.results;
  assert.deepEqual(
    results.map((r: { status: string }) => r.status),
    ['tagged', 'tagged', 'skipped'],
  );
  assert.equal(results[2].reason, 'not-an-image');
  // What the handler says it wrote is what the server holds.
  const written = Object.fromEntries(results[0].tags.map((tag: Tag) => [tag.Key, tag.Value]));
  assert.deepEqual(ownTags(written), ownTags(first.tags));
  assert.deepEqual(await readdir(tmp), []);
});

test('no trigger in the config: the images go to a bucket named local, at the top', async (t) => {
  const copy = join(await tempDir(t, 'lambda-ml-s3-local-copy-'), 'out');
  await cp(out, copy, { recursive: true });
  const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'));
  manifest.trigger = null;
  await writeFile(join(copy, 'manifest.json'), JSON.stringify(manifest));
  const args = ['invoke', '--local', '--s3-local', '--image', join(photos, 'baboon photo.png'), '--out', copy];
  args.push('--json');
  const result = await runBin(args, { cwd: project, env: USER_AWS });
  assert.equal(result.code, 0, result.stderr);
  const [image] = JSON.parse(result.stdout).s3Local.images;
  assert.equal(image.bucket, 'local');
  assert.equal(image.key, 'baboon photo.png');
  assert.ok(image.tags['ml:safety']);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} while it runs: exit 2 in one line, the local S3 stopped and its folder removed`, async (t) => {
    const tmp = await tempDir(t, 'lambda-ml-s3-local-tmpdir-');
    const args = ['invoke', '--local', '--s3-local', '--image', join(photos, 'baboon photo.png'), '--out', out];
    const child = spawnBin(args, { cwd: project, env: { TMPDIR: tmp } });
    const ended = finished(child, 120_000);
    await waitFor(() => readdirSync(tmp).some((name) => name.startsWith('lambda-ml-s3-local-')), 60_000, 20);
    child.kill(signal);
    const result = await ended;
    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result.stderr, new RegExp(`interrupted by ${signal}`));
    assert.deepEqual(await readdir(tmp), [], 'nothing left in the temp dir');
  });
}

test('a missing or unreadable image: exit 2 naming it, before any server starts', async (t) => {
  const tmp = await tempDir(t, 'lambda-ml-s3-local-tmpdir-');
  const cases: [string[], RegExp][] = [
    [['missing.jpg'], /^error: --image missing\.jpg: not found$/],
    [['baboon photo.png', 'missing.jpg'], /^error: --image missing\.jpg: not found$/],
    [['second'], /^error: --image second: is a folder, not an image file$/],
    [['baboon photo.png/x.jpg'], /^error: --image baboon photo\.png\/x\.jpg: a parent of it is not a folder$/],
  ];
  for (const [images, message] of cases) {
    const args = ['invoke', '--local', '--s3-local', '--image', ...images, '--out', out, '--config', CONFIG()];
    const result = await runBin(args, { cwd: photos, env: { TMPDIR: tmp } });
    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result.stderr, message);
  }
  assert.deepEqual(await readdir(tmp), [], 'no server folder was made');
});
