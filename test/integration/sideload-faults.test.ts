/**
 * The sideload cold start under the faults found under AWS's runtime client (issue 15), for deps.tar.br and deps.zip
 * alike: repeated kills mid-extraction, a nearly full tmpfs, ENOSPC mid-write, a body cut mid-way, two cold starts at
 * once, a wrong sha256, a corrupt archive, a deadline. Real child processes, a real tmpfs (when this process may
 * mount one), real S3 clients against loopback servers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import * as sdk from '@aws-sdk/client-s3';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { requireFrom } from '../../src/handler/require-from.js';
import { makeS3BodyFetcher } from '../../src/handler/s3.js';
import { freeTmpBytes } from '../../src/handler/tmp-space.js';
import { ensureDeps, type SideloadConfig } from '../../src/handler/sideload.js';
import { startS3 } from '../helpers/s3rver.js';
import {
  FORMATS,
  canMountTmpfs,
  childScript,
  fromS3,
  lastJson,
  makeDeps,
  mountTmpfs,
  runChild,
  startSlowS3,
  tmp,
} from './sideload-helpers.js';

const TMPFS = canMountTmpfs();
const NO_TMPFS = 'cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)';
/** An SDK client as the handler's makeS3Client makes it, with the region and keys a Lambda has in its env. */
const sdkClient = (env: Record<string, string>) =>
  new sdk.S3Client({
    endpoint: env.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
const hello = (dir: string) => requireFrom([dir])<{ hello: () => string }>('fake-pkg').hello();
const name = (format: string) => (format === 'zip' ? 'deps\\.zip' : 'deps\\.tar\\.br');
const freeBytes = async (dir: string) => {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
};

/** A /tmp for the test: a real tmpfs of `bytes` when possible, else a folder capped by LAMBDA_ML_TMP_LIMIT_BYTES. */
async function smallTmp(t: import('node:test').TestContext, bytes: number) {
  if (TMPFS) return { tmpDir: await mountTmpfs(t, bytes), env: {} as Record<string, string>, real: true };
  const tmpDir = join(await tmp(t, 'capped'), 'tmp');
  await mkdir(tmpDir);
  return { tmpDir, env: { LAMBDA_ML_TMP_LIMIT_BYTES: String(bytes) }, real: false };
}

/** How many entries `dir` holds; 0 when it does not exist (or stops existing while it is read). */
function filesIn(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

/** Waits until a temp folder of the extraction exists and holds `files` data files; returns its path. */
async function waitForTemp(base: string, files: number, deadlineMs = 60_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const temp = existsSync(base) ? readdirSync(base).find((n) => n.startsWith('.tmp-')) : undefined;
    if (temp) {
      const data = join(base, temp, 'node_modules', 'fake-pkg', 'data');
      // It may be the dead temp of the start before, which the new child is removing right now: gone is 0 files.
      const count = files === 0 ? 0 : filesIn(data);
      if (count >= files) return join(base, temp);
    }
    if (Date.now() - t0 > deadlineMs) throw new Error(`no temp folder with ${files} files under ${base}`);
    await tick();
  }
}

for (const format of FORMATS) {
  test(`${format}: in the task root: extracted once into /tmp/lambda-ml/<sha256>, reused, loadable`, async (t) => {
    const dir = await tmp(t);
    const { config } = await makeDeps(dir, format, { files: 20 });
    const tmpDir = join(dir, 'tmp');
    await mkdir(tmpDir);
    const first = await ensureDeps({ config, taskRoot: dir, tmpDir });
    assert.equal(first.dir, join(tmpDir, 'lambda-ml', config.sha256));
    assert.equal(first.reused, false);
    assert.equal(first.format, format);
    assert.ok(first.startedAt <= first.endedAt);
    assert.equal(hello(first.nodeModules), 'hi from the sideloaded fake-pkg');
    assert.equal((await readdir(join(first.nodeModules, 'fake-pkg', 'data'))).length, 20);
    const second = await ensureDeps({ config, taskRoot: dir, tmpDir });
    assert.equal(second.reused, true);
    assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), [config.sha256]);
  });

  test(`${format}: from s3rver (default and given SDK client): bad sha256 or bytes leave nothing`, async (t) => {
    const dir = await tmp(t);
    const { bytes, config } = await makeDeps(dir, format, { files: 50 });
    const s3 = await startS3(t);
    await s3.client.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
    const put = (Key: string, Body: Buffer) => s3.client.send(new PutObjectCommand({ Bucket: 'artifacts', Key, Body }));
    await put('fn/deps 1', bytes);
    const corrupt = Buffer.from(bytes);
    corrupt[Math.floor(corrupt.length / 2)] ^= 0xff;
    await put('fn/corrupt', corrupt);
    const env = { ...process.env, ...s3.env };
    const tmpDir = join(dir, 'tmp');
    await mkdir(tmpDir);
    const base = join(tmpDir, 'lambda-ml');
    const sdkFetch = makeS3BodyFetcher(sdk, s3.client);
    const s3Config = fromS3(config, 's3://artifacts/fn/deps 1');
    const res = await ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env, remainingMs: () => 30_000 });
    assert.equal(hello(res.nodeModules), 'hi from the sideloaded fake-pkg');
    await rm(base, { recursive: true });
    const viaSdk = await ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env, fetchZip: sdkFetch });
    assert.equal(viaSdk.reused, false);
    assert.equal(hello(viaSdk.nodeModules), 'hi from the sideloaded fake-pkg');
    await rm(base, { recursive: true }); // the refusals below must not find it extracted already

    const wrong = { ...s3Config, sha256: 'f'.repeat(64) };
    await assert.rejects(
      ensureDeps({ config: wrong, taskRoot: dir, tmpDir, env }),
      new RegExp(`${name(format)} sha256 mismatch: expected f{64}, got [0-9a-f]{64}.*lambda-ml deploy`),
    );
    const bad = { ...fromS3(config, 's3://artifacts/fn/corrupt') };
    await assert.rejects(
      ensureDeps({ config: bad, taskRoot: dir, tmpDir, env, fetchZip: sdkFetch }),
      (error: Error) => {
        // zip: hashed before extraction; tar.br: brotli or tar notice first, or else the hash after the last byte.
        assert.match(error.message, new RegExp(`^${name(format)}.*(sha256 mismatch|is corrupt)`));
        return true;
      },
    );
    await assert.rejects(
      ensureDeps({ config: fromS3(config, 's3://artifacts/missing'), taskRoot: dir, tmpDir, env, fetchZip: sdkFetch }),
      /S3 GetObject s3:\/\/artifacts\/missing failed: NoSuchKey/,
    );
    assert.deepEqual(await readdir(base), [], 'no temp folder and no final folder of a refused archive');
  });

  test(`${format}: a cut body names the archive, how far it got and that the next invocation retries`, async (t) => {
    const dir = await tmp(t);
    const { bytes, config } = await makeDeps(dir, format, { files: 50, randomBytes: 256 * 1024 });
    const slow = await startSlowS3(t, { 'artifacts/fn/deps': bytes });
    const env = { ...process.env, ...slow.env };
    const tmpDir = join(dir, 'tmp');
    await mkdir(tmpDir);
    const s3Config = fromS3(config, 's3://artifacts/fn/deps');
    const cut = Math.floor(bytes.length / 2);
    slow.cutAfter = cut;
    const sdkFetch = makeS3BodyFetcher(sdk, sdkClient(slow.env));
    for (const fetchZip of [undefined, sdkFetch]) {
      await assert.rejects(ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env, fetchZip }), (error: Error) => {
        const pattern =
          `^${name(format)} from s3://artifacts/fn/deps: the download was cut after (\\d+) of ${bytes.length} bytes ` +
          '\\((aborted|.*ECONNRESET|.*socket hang up|.*terminated).*\\); ' +
          'nothing was kept, and the next invocation retries it$';
        const m = new RegExp(pattern).exec(error.message);
        assert.ok(m, error.message);
        assert.ok(Number(m[1]) > 0 && Number(m[1]) <= cut, `got ${m[1]} of the ${cut} bytes sent`);
        return true;
      });
      assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), [], 'nothing kept');
    }
    slow.cutAfter = null;
    const res = await ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env, fetchZip: sdkFetch });
    assert.equal(hello(res.nodeModules), 'hi from the sideloaded fake-pkg');
    assert.equal(slow.requests(), 3);
  });

  test(`${format}: five kills mid-extraction in a small /tmp, then a start that works, leaving nothing`, async (t) => {
    const dir = await tmp(t);
    const files = format === 'zip' ? 4000 : 2500;
    const { bytes, config } = await makeDeps(dir, format, { files });
    const diskBytes = config.diskBytes as number;
    // Room for 1.7 copies: a start after two dead half-copies only fits if they are cleaned before the check.
    const { tmpDir, env: capEnv, real } = await smallTmp(t, Math.round(diskBytes * 1.7));
    t.diagnostic(
      `${real ? 'real tmpfs' : 'LAMBDA_ML_TMP_LIMIT_BYTES'}; disk ${diskBytes} of files ${config.unzippedBytes}`,
    );
    const slow = await startSlowS3(t, { 'artifacts/fn/deps': bytes });
    // tar.br arrives over ~1.5 s so files appear as it streams; zip downloads fast, then extracts.
    slow.rate = format === 'tar.br' ? Math.ceil(bytes.length / 1.5) : 0;
    const s3Config = fromS3(config, 's3://artifacts/fn/deps');
    const base = join(tmpDir, 'lambda-ml');
    const env = { ...slow.env, ...capEnv };
    for (const share of [0, 0.1, 0.35, 0.6, 0.85]) {
      const { child, done } = runChild(childScript(s3Config, dir, tmpDir), env);
      t.after(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
      const temp = await waitForTemp(base, Math.ceil(share * files));
      child.kill('SIGKILL');
      const result = await done;
      assert.equal(
        result.signal,
        'SIGKILL',
        `the child finished before the kill at ${share}: ${result.out}${result.err}`,
      );
      assert.equal(existsSync(join(base, config.sha256)), false, 'a killed extraction never leaves the final folder');
      // Each start removed the temp of the one before it, before its space check: one dead temp at a time.
      assert.deepEqual(
        readdirSync(base).filter((n) => n.startsWith('.tmp-')),
        [temp.slice(base.length + 1)],
      );
    }
    slow.rate = 0;
    const res = await ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env: { ...process.env, ...env } });
    assert.equal(res.reused, false);
    assert.equal(res.cleaned.length, 1);
    assert.deepEqual(await readdir(base), [config.sha256]);
    assert.equal((await readdir(join(res.nodeModules, 'fake-pkg', 'data'))).length, files);
    if (real) {
      const du = Number(execFileSync('du', ['-sB1', res.dir], { encoding: 'utf8' }).split('\t')[0]);
      assert.ok(du <= diskBytes, `on tmpfs the tree takes ${du} bytes, within the recorded ${diskBytes}`);
    }
  });

  test(`${format}: a nearly full /tmp: refused before fetching when the blocks do not fit`, async (t) => {
    const dir = await tmp(t);
    const { bytes, config } = await makeDeps(dir, format, { files: 600 });
    const diskBytes = config.diskBytes as number;
    assert.ok(diskBytes > 2 * config.unzippedBytes, 'small files: the blocks are far more than the file bytes');
    const { tmpDir, env: capEnv } = await smallTmp(t, diskBytes + 2 * 1024 * 1024);
    const slow = await startSlowS3(t, { 'artifacts/fn/deps': bytes });
    const env = { ...process.env, ...slow.env, ...capEnv };
    // Leave room for the file bytes but not for their blocks: the check the issue found counting the wrong thing.
    const filler = join(tmpDir, 'filler');
    const room = Math.round((config.unzippedBytes + diskBytes) / 2);
    const free = await freeTmpBytes(tmpDir, env);
    await writeFile(filler, Buffer.alloc(Math.floor((free - room) / 4096) * 4096));
    const left = await freeTmpBytes(tmpDir, env);
    assert.ok(left > config.unzippedBytes && left < diskBytes, `${left} free: the file bytes fit, their blocks do not`);
    const s3Config = fromS3(config, 's3://artifacts/fn/deps');
    await assert.rejects(
      ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env }),
      new RegExp(
        `not enough space in ${tmpDir} for the sideloaded deps \\(${name(format)} unpacked, \\d+ files\\): ` +
          `needs ${diskBytes} bytes, \\d+ free\\. Raise function\\.ephemeralStorageMb`,
      ),
    );
    assert.equal(slow.requests(), 0, 'refused before anything was fetched');
    await rm(filler);
    const res = await ensureDeps({ config: s3Config, taskRoot: dir, tmpDir, env });
    assert.equal(hello(res.nodeModules), 'hi from the sideloaded fake-pkg');
  });

  test(`${format}: ENOSPC mid-write is the same clear "not enough space" error, and nothing is left`, async (t) => {
    if (!TMPFS) return t.skip(NO_TMPFS);
    const dir = await tmp(t);
    const { config } = await makeDeps(dir, format, { files: 600 });
    const tmpDir = await mountTmpfs(t, 1024 * 1024);
    // A recorded size that is too small (an older package counted file bytes): the check passes, the disk fills.
    const lying: SideloadConfig = { ...config, diskBytes: 4096 };
    const before = await freeBytes(tmpDir);
    await assert.rejects(ensureDeps({ config: lying, taskRoot: dir, tmpDir }), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(
          `^not enough space in ${tmpDir} for the sideloaded deps \\(${name(format)} unpacked, \\d+ files\\): ` +
            'needs 4096 bytes, \\d+ free\\. Raise function\\.ephemeralStorageMb.*\\(ENOSPC',
        ),
      );
      return true;
    });
    assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), [], 'the half-written temp folder was removed');
    assert.ok((await freeBytes(tmpDir)) >= before - 8192, 'the space came back');
  });

  test(`${format}: two cold starts at once in two processes sharing /tmp: one extracts, both succeed`, async (t) => {
    const dir = await tmp(t);
    const { config } = await makeDeps(dir, format, { files: 400 });
    const tmpDir = join(dir, 'tmp');
    await mkdir(tmpDir);
    const [a, b] = await Promise.all([
      runChild(childScript(config, dir, tmpDir)).done,
      runChild(childScript(config, dir, tmpDir)).done,
    ]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    const [ra, rb] = [lastJson(a.out), lastJson(b.out)];
    assert.equal(ra.dir, rb.dir);
    assert.equal([ra.reused, rb.reused].filter((r) => r === false).length, 1, 'exactly one process created it');
    assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), [config.sha256]);
    assert.equal((await readdir(join(ra.dir, 'node_modules', 'fake-pkg', 'data'))).length, 400);
  });

  test(`${format}: a download that would outlive the invocation fails fast, before the deadline`, async (t) => {
    const dir = await tmp(t);
    const { bytes, config } = await makeDeps(dir, format, { randomBytes: 256 * 1024 });
    const slow = await startSlowS3(t, { 'artifacts/fn/deps': bytes });
    slow.rate = 32 * 1024; // 8+ s for the archive
    const tmpDir = join(dir, 'tmp');
    await mkdir(tmpDir);
    const end = Date.now() + 3000;
    const t0 = Date.now();
    await assert.rejects(
      ensureDeps({
        config: fromS3(config, 's3://artifacts/fn/deps'),
        taskRoot: dir,
        tmpDir,
        env: { ...process.env, ...slow.env },
        remainingMs: () => end - Date.now(),
      }),
      new RegExp(`${name(format)} from s3://artifacts/fn/deps: the download would not finish in time .*timeoutS`),
    );
    assert.ok(Date.now() - t0 < 2000, 'gave up well before the deadline');
    assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), []);
  });

  test(`${format}: a slow first half second (a busy loop) fails no download that ends in time`, async (t) => {
    // Projecting from the first 100 ms failed healthy cold starts under load (docs/performance.md, "Cold start").
    const dir = await tmp(t);
    const { bytes, config } = await makeDeps(dir, format, { randomBytes: 256 * 1024 });
    const slow = await startSlowS3(t, { 'artifacts/fn/deps': bytes });
    slow.rate = 32 * 1024; // 8+ s at this rate, then as fast as it can
    const fast = setTimeout(() => (slow.rate = 0), 500);
    t.after(() => clearTimeout(fast));
    const tmpDir = join(dir, 'tmp');
    await mkdir(tmpDir);
    const end = Date.now() + 4000;
    const result = await ensureDeps({
      config: fromS3(config, 's3://artifacts/fn/deps'),
      taskRoot: dir,
      tmpDir,
      env: { ...process.env, ...slow.env },
      remainingMs: () => end - Date.now(),
    });
    assert.equal(result.reused, false);
    assert.deepEqual(await readdir(join(tmpDir, 'lambda-ml')), [config.sha256]);
  });
}
