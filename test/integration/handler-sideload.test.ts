import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ensureDeps, type SideloadConfig } from '../../src/handler/sideload.js';
import { requireFrom } from '../../src/handler/require-from.js';
import { startS3 } from '../helpers/s3rver.js';
import { PROJECT_ROOT } from '../helpers/handler-fixtures.js';

async function tmp(t: import('node:test').TestContext, name = 'sideload') {
  const dir = await mkdtemp(join(tmpdir(), `lambda-ml-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** deps.zip with a fake package (and `extraFiles` incompressible files to make extraction take a while). */
async function makeDepsZip(dir: string, extraFiles = 0): Promise<{ zipPath: string; config: SideloadConfig }> {
  const src = join(dir, 'deps-src');
  const pkg = join(src, 'node_modules', 'fake-pkg');
  await mkdir(join(pkg, 'data'), { recursive: true });
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'fake-pkg', version: '1.2.3', main: 'index.js' }));
  await writeFile(join(pkg, 'index.js'), "module.exports = { hello: () => 'hi from the sideloaded fake-pkg' };\n");
  await Promise.all(
    Array.from({ length: extraFiles }, (_, i) => writeFile(join(pkg, 'data', `f${i}.bin`), randomBytes(8192))),
  );
  const zipPath = join(dir, 'deps.zip');
  // Level 0 (stored): fast to build; extraction still writes every file.
  execFileSync('zip', ['-r', '-X', '-y', '-q', extraFiles > 0 ? '-0' : '-9', zipPath, 'node_modules'], { cwd: src });
  const zip = await readFile(zipPath);
  const list = execFileSync('unzip', ['-Z', '-t', zipPath], { encoding: 'utf8' });
  const [, files, unzipped] = /(\d+) files, (\d+) bytes uncompressed/.exec(list)!;
  return {
    zipPath,
    config: {
      zip: 'deps.zip',
      s3: null,
      sha256: createHash('sha256').update(zip).digest('hex'),
      zipBytes: zip.length,
      unzippedBytes: Number(unzipped),
      files: Number(files),
    },
  };
}

test('sideload from a zip in the task root: verified, extracted once, loadable through requireFrom', async (t) => {
  const dir = await tmp(t);
  const { config } = await makeDepsZip(dir);
  const tmpDir = join(dir, 'tmp');
  await mkdir(tmpDir);
  const first = await ensureDeps({ config, taskRoot: dir, tmpDir });
  assert.equal(first.dir, join(tmpDir, 'lambda-ml', config.sha256));
  assert.equal(first.reused, false);
  const req = requireFrom([first.nodeModules, join(PROJECT_ROOT, 'node_modules')]);
  assert.equal(req<{ hello: () => string }>('fake-pkg').hello(), 'hi from the sideloaded fake-pkg');
  const second = await ensureDeps({ config, taskRoot: dir, tmpDir });
  assert.equal(second.reused, true);
  assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), [config.sha256]);
});

test('sideload from S3 (the SDK against s3rver); a wrong sha256 is a clear error and leaves nothing', async (t) => {
  const dir = await tmp(t);
  const { zipPath, config } = await makeDepsZip(dir);
  const s3 = await startS3(t);
  await s3.client.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  await s3.client.send(
    new PutObjectCommand({ Bucket: 'artifacts', Key: 'fn/deps 1.zip', Body: await readFile(zipPath) }),
  );
  const s3Config = { ...config, zip: null, s3: 's3://artifacts/fn/deps 1.zip' };
  const tmpDir = join(dir, 'tmp');
  await mkdir(tmpDir);
  const env = { ...process.env, ...s3.env };
  const res = await ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env, remainingMs: () => 30_000 });
  assert.equal(
    requireFrom([res.nodeModules])<{ hello: () => string }>('fake-pkg').hello(),
    'hi from the sideloaded fake-pkg',
  );
  const bad = { ...s3Config, sha256: 'f'.repeat(64) };
  await assert.rejects(
    ensureDeps({ config: bad, taskRoot: dir, tmpDir, env }),
    /deps\.zip sha256 mismatch: expected f{64}, got [0-9a-f]{64}.*lambda-ml deploy/,
  );
  assert.equal(existsSync(join(tmpDir, 'lambda-ml', bad.sha256)), false);
  await assert.rejects(
    ensureDeps({
      config: { ...s3Config, sha256: '0'.repeat(64), s3: 's3://artifacts/missing.zip' },
      taskRoot: dir,
      tmpDir,
      env,
    }),
    /NoSuchKey/,
  );
  // Not enough time left for the download: fail fast, before fetching.
  await assert.rejects(
    ensureDeps({ config: { ...s3Config, sha256: '1'.repeat(64) }, taskRoot: dir, tmpDir, env, remainingMs: () => 300 }),
    /only 300 ms left.*raise function\.timeoutS/,
  );
});

test('/tmp too small: a clear error before any fetch (LAMBDA_ML_TMP_LIMIT_BYTES counts blocks)', async (t) => {
  const dir = await tmp(t);
  const { config } = await makeDepsZip(dir); // an older runtime config: no diskBytes, so the file bytes are the need
  const tmpDir = join(dir, 'tmp');
  await mkdir(tmpDir);
  await writeFile(join(tmpDir, 'already-there'), Buffer.alloc(100));
  const block = (await lstat(join(tmpDir, 'already-there'))).blocks * 512; // 100 bytes: one 4 KiB block on ext4
  const env = { ...process.env, LAMBDA_ML_TMP_LIMIT_BYTES: String(config.unzippedBytes + block - 50) };
  await assert.rejects(
    ensureDeps({ config, taskRoot: dir, tmpDir, env }),
    new RegExp(
      `not enough space in .*needs ${config.unzippedBytes} bytes, ` +
        `${config.unzippedBytes - 50} free.*ephemeralStorageMb`,
    ),
  );
  const ok = await ensureDeps({
    config,
    taskRoot: dir,
    tmpDir,
    env: { ...env, LAMBDA_ML_TMP_LIMIT_BYTES: String(config.unzippedBytes + block + 100) },
  });
  assert.equal(ok.reused, false);
});

const childScript = (config: SideloadConfig, taskRoot: string, tmpDir: string) => `
import { ensureDeps } from ${JSON.stringify(join(PROJECT_ROOT, 'src/handler/sideload.ts'))};
const r = await ensureDeps({
  config: ${JSON.stringify(config)},
  taskRoot: ${JSON.stringify(taskRoot)},
  tmpDir: ${JSON.stringify(tmpDir)},
});
console.log(JSON.stringify(r));
`;

function runChild(script: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, done };
}

test('two cold starts at once, processes sharing /tmp: both succeed, one extracted folder, no temp left', async (t) => {
  const dir = await tmp(t);
  const { config } = await makeDepsZip(dir, 400);
  const tmpDir = join(dir, 'tmp');
  await mkdir(tmpDir);
  const [a, b] = await Promise.all([
    runChild(childScript(config, dir, tmpDir)).done,
    runChild(childScript(config, dir, tmpDir)).done,
  ]);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  const ra = JSON.parse(a.out.trim().split('\n').at(-1)!);
  const rb = JSON.parse(b.out.trim().split('\n').at(-1)!);
  assert.equal(ra.dir, rb.dir);
  assert.equal([ra.reused, rb.reused].filter((r) => r === false).length, 1, 'exactly one process created the folder');
  assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), [config.sha256]);
  assert.equal((await readdir(join(ra.dir, 'node_modules', 'fake-pkg', 'data'))).length, 400);
});

test('a process killed mid-extraction leaves an unused temp folder; the next start works and cleans it', async (t) => {
  const dir = await tmp(t);
  const { config } = await makeDepsZip(dir, 1500);
  const tmpDir = join(dir, 'tmp');
  const base = join(tmpDir, 'lambda-ml');
  await mkdir(base, { recursive: true });
  const { child, done } = runChild(childScript(config, dir, tmpDir));
  let temp: string | undefined;
  const t0 = Date.now();
  while (!temp && Date.now() - t0 < 30_000) {
    temp = (await readdir(base)).find((n) => n.startsWith('.tmp-'));
    if (!temp) await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(temp, 'the child started extracting');
  // Let it write some files, then kill it hard (what a Lambda timeout does).
  while (existsSync(join(base, temp)) && (await readdir(join(base, temp), { recursive: true })).length < 50)
    await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGKILL');
  const result = await done;
  assert.equal(result.signal, 'SIGKILL', `the child finished before it could be killed: ${result.out}`);
  assert.equal(existsSync(join(base, config.sha256)), false, 'no final folder from a killed extraction');
  assert.ok(existsSync(join(base, temp)));
  const res = await ensureDeps({ config, taskRoot: dir, tmpDir });
  assert.equal(res.reused, false);
  assert.deepEqual(res.cleaned, [join(base, temp)]);
  assert.deepEqual(await readdir(base), [config.sha256]);
  assert.equal((await readdir(join(res.dir, 'node_modules', 'fake-pkg', 'data'))).length, 1500);
});

test('atomicDir: when two fills race, one rename wins and the loser uses the winner’s folder', async (t) => {
  const { atomicDir } = await import('../../src/handler/atomic-dir.js');
  const dir = await tmp(t, 'race');
  const final = join(dir, 'lambda-ml', 'abc');
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const fill = (who: string) => async (temp: string) => {
    await writeFile(join(temp, 'who'), who);
    await gate;
  };
  const both = Promise.all([atomicDir(final, fill('a')), atomicDir(final, fill('b'))]);
  release();
  const [a, b] = await both;
  assert.deepEqual([a.created, b.created].sort(), [false, true]);
  assert.deepEqual(await readdir(join(dir, 'lambda-ml')), ['abc']);
  assert.equal(await readFile(join(final, 'who'), 'utf8'), a.created ? 'a' : 'b');
});
