/**
 * `backfill --local` with real child processes: the function pool (function.zip unpacked once, N Lambda-like
 * environments, warm between tasks, a timeout or a crash ending one environment) driven by the scheduler, one Batch
 * Operations 2.0 task per invocation, TemporaryFailure retried, and the completion report in Batch Operations'
 * layout. The function is a probe (a tiny function.zip that answers as its key says), so what is checked here is the
 * runner; the packaged classifier on s3rver is the end-to-end test (see docs/backfill.md).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { groupFailures } from '../../src/backfill/failures.js';
import { runLocalBackfill } from '../../src/backfill/local-backfill.js';
import { startFunctionPool } from '../../src/backfill/local-pool.js';
import { readLocalReport } from '../../src/backfill/local-report.js';
import { DEFAULT_NODE_RUNTIME } from '../../src/runtimes/table.js';
import type { Manifest } from '../../src/types.js';

const PROBE = `
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
let invocations = 0;
export const handler = async (event, context) => {
  invocations++;
  const task = event.tasks[0];
  const key = decodeURIComponent(task.s3Key.replace(/\\+/g, ' '));
  const answer = (resultCode, resultString) => ({
    invocationSchemaVersion: event.invocationSchemaVersion, treatMissingKeysAs: 'PermanentFailure',
    invocationId: event.invocationId, results: [{ taskId: task.taskId, resultCode, resultString }],
  });
  if (key.includes('bad')) return answer('PermanentFailure', 'failed (decode): not an image');
  if (key.includes('flaky')) {
    const marker = join(process.env.PROBE_DIR, encodeURIComponent(key));
    if (!existsSync(marker)) {
      writeFileSync(marker, 'x');
      return answer('TemporaryFailure', 'failed (SlowDown): Please reduce your request rate.');
    }
  }
  if (key.includes('throw')) throw new TypeError('cannot read the image');
  if (key.includes('hang')) return new Promise(() => {});
  if (key.includes('crash')) process.exit(3);
  return answer('Succeeded', JSON.stringify({
    key, pid: process.pid, invocations, args: event.job.userArguments,
    memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, remaining: context.getRemainingTimeInMillis() > 0,
    tmp: process.env.LAMBDA_ML_TMP,
  }));
};
`;

interface Probe {
  readonly outDir: string;
  readonly manifest: Manifest;
  readonly probeDir: string;
}

async function probeFunction(t: { after(fn: () => unknown): void }): Promise<Probe> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-backfill-local-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  const probeDir = join(dir, 'markers');
  await mkdir(src);
  await mkdir(probeDir);
  await writeFile(join(src, 'index.mjs'), PROBE);
  execFileSync('zip', ['-q', '-X', join(dir, 'function.zip'), 'index.mjs'], { cwd: src });
  const manifest = {
    schemaVersion: 1,
    tool: 'lambda-ml test',
    region: 'us-east-1',
    plan: 'bundle',
    reason: 'probe',
    checks: [],
    layers: [],
    trigger: null,
    function: {
      name: 'probe',
      runtime: DEFAULT_NODE_RUNTIME,
      architecture: 'x86_64',
      memoryMb: 256,
      ephemeralStorageMb: 512,
      timeoutS: 2,
      role: null,
      handler: null,
      environment: { PROBE_DIR: probeDir },
      alias: 'live',
    },
    artifacts: {
      function: { file: 'function.zip', bytes: 0, unzippedBytes: 0, files: 1, sha256: '', sha256Base64: '' },
      deps: null,
      models: [],
    },
    artifactsBucket: { bucket: null, prefix: '' },
    runtime: {} as Manifest['runtime'],
  } as unknown as Manifest;
  return { outDir: dir, manifest, probeDir };
}

const objects = (keys: string[]) => keys.map((key) => ({ bucket: 'photos', key }));

test('two warm environments, one task per invocation: results, retries, a Batch Operations report', async (t) => {
  const { outDir, manifest } = await probeFunction(t);
  const pool = await startFunctionPool({ manifest, outDir, size: 2, env: { PATH: process.env.PATH } });
  t.after(() => pool.close());
  const keys = [
    'shop/a.jpg',
    'shop/été 1.jpg',
    'shop/plus+sign.jpg',
    'shop/bad.jpg',
    'shop/flaky.jpg',
    'shop/throw.jpg',
    ...Array.from({ length: 14 }, (_, i) => `shop/bulk-${i}.jpg`),
  ];
  const retries: string[] = [];
  const result = await runLocalBackfill({
    pool,
    objects: objects(keys),
    userArguments: { reclassify: 'stale' },
    report: { dir: join(outDir, 'reports'), scope: 'AllTasks' },
    jobId: 'local-test',
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    onRetry: (task, attempt) => retries.push(`${task.key}#${attempt}`),
  });
  assert.deepEqual(result.summary.counts, { succeeded: 18, failed: 2, retries: 1, inFlight: 0 });
  assert.deepEqual(retries, ['shop/flaky.jpg#2']);
  assert.equal(result.pool.coldStarts, 2, 'two environments, each started once and kept warm');
  const rows = await readLocalReport(result.report.dir);
  assert.equal(rows.length, 20);
  const succeeded = rows.filter((r) => r.taskStatus === 'succeeded').map((r) => JSON.parse(r.resultMessage));
  assert.deepEqual(
    succeeded.map((s) => s.key).sort(),
    keys.filter((k) => !/bad|throw/.test(k)).sort(),
    'keys decoded as sent',
  );
  assert.equal(new Set(succeeded.map((s) => s.pid)).size, 2);
  assert.ok(
    succeeded.some((s) => s.invocations > 1),
    'an environment answered several tasks warm',
  );
  assert.ok(succeeded.every((s) => s.args.reclassify === 'stale' && s.memory === '256' && s.remaining === true));
  assert.equal(new Set(succeeded.map((s) => s.tmp)).size, 2, 'each environment has its own /tmp');
  assert.deepEqual(
    groupFailures(rows)
      .map((g) => [g.count, g.errorCode, g.reason])
      .sort(),
    [
      [1, 'PermanentFailure', 'decode'],
      [1, 'PermanentFailure', 'function error TypeError'],
    ],
  );
  assert.equal(rows.filter((r) => r.taskStatus === 'failed').length, 2, 'flaky succeeded on its retry');
});

test('a timeout or a crash ends that environment; the next task in the slot cold-starts a new one', async (t) => {
  const { outDir, manifest } = await probeFunction(t);
  const pool = await startFunctionPool({ manifest, outDir, size: 1, env: { PATH: process.env.PATH } });
  t.after(() => pool.close());
  const result = await runLocalBackfill({
    pool,
    objects: objects(['a.jpg', 'hang.jpg', 'b.jpg', 'crash.jpg', 'c.jpg']),
    userArguments: { reclassify: 'all' },
    report: { dir: join(outDir, 'reports'), scope: 'FailedTasksOnly' },
  });
  assert.deepEqual(result.summary.counts, { succeeded: 3, failed: 2, retries: 0, inFlight: 0 });
  assert.deepEqual(
    result.summary.failed.map((f) => [f.task.key, f.code]),
    [
      ['hang.jpg', 'PermanentFailure'],
      ['crash.jpg', 'PermanentFailure'],
    ],
  );
  assert.match(
    result.summary.failed[0].message,
    /^Lambda returned function error: .*Task timed out after 2\.00 seconds/,
  );
  assert.match(result.summary.failed[1].message, /Runtime exited: exited \(code 3\)/);
  assert.equal(result.pool.coldStarts, 3);
  assert.equal(result.pool.restarts, 2);
  const rows = await readLocalReport(result.report.dir);
  assert.deepEqual(
    rows.map((r) => r.key),
    ['hang.jpg', 'crash.jpg'],
    'FailedTasksOnly',
  );
});

test('a handler that cannot load stops the run with one error; nothing is left behind', async (t) => {
  const { outDir, manifest } = await probeFunction(t);
  const src = join(outDir, 'broken');
  await mkdir(src);
  await writeFile(join(src, 'index.mjs'), 'export const notTheHandler = 1;\n');
  execFileSync('zip', ['-q', '-X', join(outDir, 'broken.zip'), 'index.mjs'], { cwd: src });
  const broken = {
    ...manifest,
    artifacts: { ...manifest.artifacts, function: { ...manifest.artifacts.function, file: 'broken.zip' } },
  } as Manifest;
  const pool = await startFunctionPool({ manifest: broken, outDir, size: 2, env: { PATH: process.env.PATH } });
  t.after(() => pool.close());
  const reports = join(outDir, 'reports');
  const run = runLocalBackfill({
    pool,
    objects: objects(['a.jpg', 'b.jpg']),
    userArguments: { reclassify: 'stale' },
    report: { dir: reports, scope: 'AllTasks' },
  });
  await assert.rejects(run, /^LambdaMlError: the handler failed to load: index\.mjs exports no function "handler"$/);
  assert.deepEqual(await readdir(reports), [], 'the partial report was removed');
  await assert.rejects(
    startFunctionPool({
      manifest: {
        ...manifest,
        artifacts: { ...manifest.artifacts, function: { ...manifest.artifacts.function, file: 'none.zip' } },
      } as Manifest,
      outDir,
      size: 1,
      env: {},
    }),
    /none\.zip not found/,
  );
});
