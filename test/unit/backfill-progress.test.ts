/** Progress: rate over a window, ETA, the bar and line texts, and what is printed on a TTY and in CI. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createProgressPrinter,
  formatDuration,
  progressBar,
  progressStats,
  progressText,
} from '../../src/backfill/progress.js';
import { waitExitCode } from '../../src/backfill/wait.js';
import type { JobSnapshot } from '../../src/backfill/job-api.js';

const s = (atS: number, succeeded: number, failed = 0, total: number | null = 1000) => ({
  atMs: atS * 1000,
  succeeded,
  failed,
  total,
});

test('stats: done, fraction, rate over the last 60 s, ETA from it', () => {
  const stats = progressStats([s(0, 0), s(10, 100), s(70, 700, 10)]);
  assert.equal(stats.done, 710);
  assert.equal(stats.fraction, 0.71);
  assert.equal(stats.ratePerS, 10.166666666666666, '610 tasks in the last 60 s');
  assert.ok(Math.abs((stats.etaS ?? 0) - 290 / stats.ratePerS!) < 1e-9);
  assert.equal(stats.elapsedS, 70);
  const first = progressStats([s(0, 0, 0, null)]);
  assert.deepEqual([first.ratePerS, first.etaS, first.fraction], [null, null, null]);
  const stalled = progressStats([s(0, 10), s(5, 10)]);
  assert.deepEqual([stalled.ratePerS, stalled.etaS], [0, null]);
  assert.equal(progressStats([s(0, 0, 0, 0)]).fraction, 1, 'an empty job is complete');
  assert.equal(progressStats([s(0, 990, 10), s(1, 990, 10)]).etaS, 0);
});

test('texts: durations, the line, the bar', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [59.4, '59s'],
    [65, '1m05s'],
    [3725, '1h02m'],
  ];
  for (const [seconds, text] of cases) assert.equal(formatDuration(seconds), text);
  const stats = progressStats([s(0, 0), s(10, 450, 12, 10_000)]);
  assert.equal(progressText(stats), '462 / 10,000 (4%) · 450 succeeded · 12 failed · 46/s · ETA 3m26s');
  assert.equal(progressBar(stats, 10), `░░░░░░░░░░ ${progressText(stats)}`);
  assert.equal(progressText(progressStats([s(0, 3, 0, null)])), '3 / ? · 3 succeeded · 0 failed');
});

test('printer: in CI one line per 10 s and a final one; on a TTY the bar is redrawn in place', () => {
  const ci: string[] = [];
  const printer = createProgressPrinter({ isTty: false, write: (t) => ci.push(t) });
  for (let t = 0; t <= 25; t++) printer.update(s(t, t * 10));
  printer.done();
  const expected = ['0 / 1,000 (0%)', '100 / 1,000 (10%)', '200 / 1,000 (20%)', '250 / 1,000 (25%)'];
  assert.deepEqual(
    ci.map((l) => l.split(' · ')[0]),
    expected,
  );
  assert.ok(ci.every((l) => l.endsWith('\n') && !l.includes('\r')));
  const tty: string[] = [];
  const bar = createProgressPrinter({ isTty: true, write: (t) => tty.push(t), redrawMs: 0, label: 'backfill' });
  bar.update(s(0, 0));
  bar.update(s(1, 500));
  bar.done();
  assert.ok(tty.every((l) => l.startsWith('\r\x1b[Kbackfill █') || l.startsWith('\r\x1b[Kbackfill ░')));
  assert.ok(tty[tty.length - 1].endsWith('\n'));
});

test('--wait exit code: 0 only when complete with no failed task', () => {
  const snap = (status: string, failed: number) => ({ status, failed }) as JobSnapshot;
  assert.equal(waitExitCode(snap('Complete', 0)), 0);
  assert.equal(waitExitCode(snap('Complete', 1)), 1);
  assert.equal(waitExitCode(snap('Cancelled', 0)), 1);
  assert.equal(waitExitCode(snap('Suspended', 0)), 1);
});
