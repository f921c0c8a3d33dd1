/**
 * `convert` onto a full disk, for real: the output folder sits on a 1 MiB tmpfs (ENOSPC) when this may mount one,
 * else the child runs under `ulimit -f` (EFBIG: Node ignores SIGXFSZ, so the write fails instead of killing it).
 * Either way: exit 2, one line naming OUT, no partial output, and a previous OUT untouched.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BIN } from '../helpers/cli.js';
import { assertOneLineError } from '../helpers/cli-procs.js';
import { writeKerasH5 } from '../helpers/keras-writer.js';

const DISK_BYTES = 1_048_576;
const FSIZE_BLOCKS = 1024; // ulimit -f counts 1024-byte blocks: 1 MiB, as the tmpfs

let root = '';
let h5 = '';
let disk = '';
let mode: 'tmpfs' | 'ulimit' = 'ulimit';

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'bad-inputs-disk-'));
  h5 = join(root, 'big.h5');
  // 800x800 Dense: 640,800 float32 weights = 2.6 MB of shards, more than the disk holds.
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const kernelInitializer = tf.initializers.glorotUniform({ seed: 3 });
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [800], units: 800, kernelInitializer })] });
  await writeKerasH5(h5, model, model.toJSON(null, false) as unknown as Record<string, unknown>);
  model.dispose();
  disk = join(root, 'disk');
  await mkdir(disk);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES}`, 'tmpfs', disk], { stdio: 'ignore' });
  if (mount.status === 0) mode = 'tmpfs';
});

after(async () => {
  if (mode === 'tmpfs') spawnSync('umount', [disk]);
  await rm(root, { recursive: true, force: true });
});

/** Runs `lambda-ml convert IN OUT` in a child (under the file size limit when there is no tmpfs). */
function convert(out: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const limit = mode === 'ulimit' ? `ulimit -f ${FSIZE_BLOCKS}; ` : '';
  const child = spawn('bash', ['-c', `${limit}exec "$0" "$@"`, process.execPath, BIN, 'convert', h5, out], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stderr })));
}

/** Every file under `dir` with its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const path = join(dir, name);
    if ((await stat(path)).isFile()) files[name] = (await readFile(path)).toString('base64');
  }
  return files;
}

const FULL = /: (no space left on device|disk quota or file size limit reached)$/;

const TIMEOUT = { timeout: 120_000 };

test('convert onto a full disk: exit 2, one line naming OUT, no output folder, no temp folder', TIMEOUT, async (t) => {
  const tmpfs = `a ${DISK_BYTES}-byte tmpfs (ENOSPC)`;
  const how = mode === 'tmpfs' ? tmpfs : `ulimit -f ${FSIZE_BLOCKS} (EFBIG; cannot mount a tmpfs)`;
  t.diagnostic(`full disk by ${how}`);
  const out = join(disk, 'model');
  const run = await convert(out);
  assert.equal(run.signal, null, `killed by ${run.signal}`);
  assert.equal(run.code, 2, run.stderr);
  const line = assertOneLineError(run.stderr, FULL);
  assert.ok(line.includes(out), `the line names OUT: ${line}`);
  if (mode === 'tmpfs') assert.match(line, /no space left on device$/);
  assert.deepEqual(await readdir(disk), [], 'nothing half-written: no OUT, no .OUT.tmp-* folder');
});

test('convert onto a full disk over a previous model: the previous OUT is untouched', TIMEOUT, async () => {
  const out = join(disk, 'previous');
  await mkdir(out);
  const previous = { format: 'layers-model', modelTopology: {}, weightsManifest: [] };
  await writeFile(join(out, 'model.json'), JSON.stringify(previous));
  await writeFile(join(out, 'group1-shard1of1.bin'), Buffer.alloc(4096, 7));
  const before = await snapshot(out);
  const run = await convert(out);
  assert.equal(run.code, 2, run.stderr);
  assertOneLineError(run.stderr, FULL);
  assert.deepEqual(await snapshot(out), before);
  assert.deepEqual(await readdir(disk), ['previous'], 'no temp folder beside OUT');
  await rm(out, { recursive: true });
});

test('convert into a missing folder on a full disk: the folders it created are removed again', TIMEOUT, async () => {
  const run = await convert(join(disk, 'a', 'b', 'model'));
  assert.equal(run.code, 2, run.stderr);
  assertOneLineError(run.stderr, FULL);
  assert.deepEqual(await readdir(disk), []);
});
