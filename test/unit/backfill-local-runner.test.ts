/**
 * The `--local` scheduler with a stub worker (the child-process pool is tested in
 * test/integration/backfill-local.test.ts): concurrency, one slot per task at a time, TemporaryFailure retried
 * with backoff while the slot takes other work, final results, an infrastructure failure stopping the run; and the
 * completion report it writes, in Batch Operations' layout.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BackfillTask, TaskResult } from '../../src/backfill/batch-event.js';
import { tasksOf } from '../../src/backfill/local-backfill.js';
import { createLocalReport, readLocalReport } from '../../src/backfill/local-report.js';
import { backoffMs, DEFAULT_RETRY, runLocalTasks, type FinishedTask } from '../../src/backfill/local-runner.js';
import { parseReportCsv } from '../../src/backfill/report-csv.js';

const tasks = (n: number): BackfillTask[] =>
  Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, bucket: 'b', key: `k${i}.jpg`, versionId: null }));
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('N slots run at most N tasks at once, each slot one at a time, every task exactly once', async () => {
  let running = 0;
  let peak = 0;
  const busy = new Set<number>();
  const seen: string[] = [];
  const summary = await runLocalTasks({
    tasks: tasks(40),
    concurrency: 4,
    worker: async (task, slot) => {
      assert.ok(!busy.has(slot), `slot ${slot} got two tasks at once`);
      busy.add(slot);
      running++;
      peak = Math.max(peak, running);
      for (let i = 0; i < (Number(task.taskId.slice(1)) % 3) + 1; i++) await tick();
      running--;
      busy.delete(slot);
      seen.push(task.taskId);
      return { code: 'Succeeded', message: 'ok' };
    },
  });
  assert.equal(peak, 4);
  assert.deepEqual(
    [...seen].sort(),
    tasks(40)
      .map((t) => t.taskId)
      .sort(),
  );
  assert.deepEqual(summary.counts, { succeeded: 40, failed: 0, retries: 0, inFlight: 0 });
});

test('TemporaryFailure is retried with growing backoff until it succeeds or attempts run out', async () => {
  const delays: number[] = [];
  const attempts = new Map<string, number>();
  const order: string[] = [];
  const behaviour: Record<string, (attempt: number) => TaskResult> = {
    t0: () => ({ code: 'Succeeded', message: 'tagged' }),
    t1: (a) =>
      a < 3
        ? { code: 'TemporaryFailure', message: 'failed (SlowDown): slow' }
        : {
            code: 'Succeeded',
            message: 'tagged',
          },
    t2: () => ({ code: 'TemporaryFailure', message: 'failed (SlowDown): always' }),
    t3: () => ({ code: 'PermanentFailure', message: 'failed (decode): not an image' }),
  };
  const finished: FinishedTask[] = [];
  const summary = await runLocalTasks({
    tasks: tasks(4),
    concurrency: 2,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
    random: () => 0.999999,
    sleep: async (ms) => {
      delays.push(ms);
      await tick();
    },
    worker: async (task, _slot, attempt) => {
      attempts.set(task.taskId, attempt);
      order.push(`${task.taskId}#${attempt}`);
      return behaviour[task.taskId](attempt);
    },
    onFinished: (f) => finished.push(f),
  });
  assert.deepEqual(Object.fromEntries(attempts), { t0: 1, t1: 3, t2: 4, t3: 1 });
  assert.deepEqual(summary.counts, { succeeded: 2, failed: 2, retries: 5, inFlight: 0 });
  assert.deepEqual(summary.failed.map((f) => [f.task.taskId, f.code, f.attempts]).sort(), [
    ['t2', 'TemporaryFailure', 4],
    ['t3', 'PermanentFailure', 1],
  ]);
  assert.deepEqual(
    [...delays].sort((a, b) => a - b),
    [100, 100, 200, 200, 250],
    'base × 2^(n-1), capped at maxDelayMs (jitter at its top)',
  );
  assert.ok(order.indexOf('t3#1') < order.indexOf('t1#2'), 'the slot took other work while t1 waited');
  assert.equal(finished.length, 4);
});

test('backoff: exponential, capped, jittered into [0.5, 1) of the step', () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 200, maxDelayMs: 1000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((a) => backoffMs(a, policy, () => 0)),
    [100, 200, 400, 500, 500],
  );
  assert.deepEqual(
    [1, 2, 3].map((a) => backoffMs(a, policy, () => 0.5)),
    [150, 300, 600],
  );
});

test('an async source is pulled one item at a time; a worker that throws stops the run with its error', async () => {
  let pulling = 0;
  async function* source() {
    for (const task of tasks(10)) {
      pulling++;
      assert.equal(pulling, 1, 'no concurrent pulls');
      await tick();
      pulling--;
      yield task;
    }
  }
  const done = await runLocalTasks({
    tasks: source(),
    concurrency: 3,
    worker: async () => {
      await tick();
      return { code: 'Succeeded', message: '' };
    },
  });
  assert.equal(done.counts.succeeded, 10);
  let calls = 0;
  await assert.rejects(
    runLocalTasks({
      tasks: tasks(10),
      concurrency: 2,
      worker: async () => {
        calls++;
        await tick();
        if (calls === 3) throw new Error('the handler failed to load');
        return { code: 'Succeeded', message: '' };
      },
    }),
    /failed to load/,
  );
  assert.ok(calls < 10, 'no new task starts after the failure');
  await assert.rejects(
    runLocalTasks({ tasks: [], concurrency: 0, worker: async () => ({ code: 'Succeeded', message: '' }) }),
    /concurrency/,
  );
  async function* failing() {
    yield tasks(1)[0];
    throw new Error('listing s3://b/ failed: AccessDenied');
  }
  let ran = 0;
  await assert.rejects(
    runLocalTasks({
      tasks: failing(),
      concurrency: 2,
      worker: async () => {
        ran++;
        return { code: 'Succeeded', message: '' };
      },
    }),
    /AccessDenied/,
  );
  assert.equal(ran, 1, 'the task pulled before the listing failed still ran');
});

test("tasksOf numbers the objects; the local report has Batch Operations' layout and reads back", async (t) => {
  const numbered = [];
  for await (const task of tasksOf([
    { bucket: 'b', key: 'a b.jpg' },
    { bucket: 'b', key: 'c.jpg', versionId: 'v1' },
  ]))
    numbered.push(task);
  assert.deepEqual(numbered, [
    { taskId: 'task-1', bucket: 'b', key: 'a b.jpg', versionId: null },
    { taskId: 'task-2', bucket: 'b', key: 'c.jpg', versionId: 'v1' },
  ]);

  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-local-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const finished = (key: string, code: FinishedTask['code'], message: string): FinishedTask => ({
    task: { taskId: key, bucket: 'b', key, versionId: null },
    code,
    message,
    attempts: 1,
    ms: 5,
  });
  for (const scope of ['FailedTasksOnly', 'AllTasks'] as const) {
    const report = await createLocalReport({
      dir: join(dir, scope),
      jobId: 'local-1',
      scope,
      now: () => new Date('2026-01-02T03:04:05Z'),
    });
    report.add(finished('ok one.jpg', 'Succeeded', 'tagged: ml:category=cat'));
    report.add(finished('bad,one.jpg', 'PermanentFailure', 'failed (decode): "x"'));
    report.add(finished('slow.jpg', 'TemporaryFailure', 'failed (SlowDown): slow'));
    const written = await report.close();
    assert.equal(written.dir, join(dir, scope, 'job-local-1'));
    assert.deepEqual(await readdir(join(dir, scope)), ['job-local-1'], 'no temp folder left');
    const manifest = JSON.parse(await readFile(written.manifestPath, 'utf8'));
    assert.equal(manifest.Format, 'Report_CSV_20180820');
    assert.equal(manifest.ReportCreationDate, '2026-01-02T03:04:05.000Z');
    assert.deepEqual(
      manifest.Results.map((r: { TaskExecutionStatus: string }) => r.TaskExecutionStatus),
      scope === 'AllTasks' ? ['succeeded', 'failed'] : ['failed'],
    );
    const rows = await readLocalReport(written.dir);
    assert.deepEqual(
      rows.map((r) => [r.key, r.taskStatus, r.errorCode]),
      [
        ...(scope === 'AllTasks' ? [['ok one.jpg', 'succeeded', null]] : []),
        ['bad,one.jpg', 'failed', 'PermanentFailure'],
        ['slow.jpg', 'failed', 'TemporaryFailure'],
      ],
    );
    const failedCsv = await readFile(written.files.find((f) => f.status === 'failed')!.path, 'utf8');
    assert.equal(failedCsv.split('\n')[0], 'b,bad%2Cone.jpg,,failed,200,PermanentFailure,"failed (decode): ""x"""');
    assert.equal(parseReportCsv(failedCsv).length, 2);
  }
  const aborted = await createLocalReport({ dir: join(dir, 'aborted'), jobId: 'x', scope: 'AllTasks' });
  aborted.add(finished('a.jpg', 'Succeeded', ''));
  await aborted.abort();
  assert.deepEqual(await readdir(join(dir, 'aborted')), [], 'an aborted report leaves nothing');
});
