/**
 * Progress of a backfill, for `--wait` and `--local` alike (docs/backfill.md, "Following a job"): counts, the rate
 * over a recent window and the ETA it gives, a bar for a TTY and a plain line for CI. Pure: callers pass the time.
 */

/** One observation. */
export interface ProgressSample {
  readonly atMs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly total: number | null; // null while unknown (the job is still reading its manifest)
}

export interface ProgressStats {
  readonly succeeded: number;
  readonly failed: number;
  readonly done: number;
  readonly total: number | null;
  readonly fraction: number | null; // 0..1
  readonly ratePerS: number | null; // tasks per second over the window; null until two samples differ in time
  readonly etaS: number | null;
  readonly elapsedS: number;
}

/** The rate is measured over the last `windowMs` (default 60 s) so it follows changes in speed. */
export function progressStats(samples: readonly ProgressSample[], windowMs = 60_000): ProgressStats {
  if (samples.length === 0) throw new Error('progressStats needs at least one sample');
  const last = samples[samples.length - 1];
  const first = samples[0];
  const done = last.succeeded + last.failed;
  const since = last.atMs - windowMs;
  const base = samples.find((s) => s.atMs >= since) ?? first;
  const from = base === last && samples.length > 1 ? samples[samples.length - 2] : base;
  const dt = (last.atMs - from.atMs) / 1000;
  const ratePerS = dt > 0 ? (done - (from.succeeded + from.failed)) / dt : null;
  const total = last.total;
  const left = total === null ? null : Math.max(0, total - done);
  const etaS = left === null || ratePerS === null ? null : left === 0 ? 0 : ratePerS > 0 ? left / ratePerS : null;
  return {
    succeeded: last.succeeded,
    failed: last.failed,
    done,
    total,
    fraction: total ? Math.min(1, done / total) : total === 0 ? 1 : null,
    ratePerS,
    etaS,
    elapsedS: (last.atMs - first.atMs) / 1000,
  };
}

/** "1h02m", "4m05s", "12s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const count = (n: number) => n.toLocaleString('en-US');

/** "4,500 / 10,000 (45%) · 12 failed · 85.0/s · ETA 1m05s". */
export function progressText(stats: ProgressStats): string {
  const of = stats.total === null ? `${count(stats.done)} / ?` : `${count(stats.done)} / ${count(stats.total)}`;
  const pct = stats.fraction === null ? '' : ` (${Math.floor(stats.fraction * 100)}%)`;
  const perS = stats.ratePerS;
  const rate = perS === null ? '' : ` · ${perS >= 10 ? perS.toFixed(0) : perS.toFixed(1)}/s`;
  const eta = stats.etaS === null ? '' : ` · ETA ${formatDuration(stats.etaS)}`;
  return `${of}${pct} · ${count(stats.succeeded)} succeeded · ${count(stats.failed)} failed${rate}${eta}`;
}

/** A bar of `width` cells followed by progressText. */
export function progressBar(stats: ProgressStats, width = 20): string {
  const filled = stats.fraction === null ? 0 : Math.round(stats.fraction * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${progressText(stats)}`;
}

/**
 * Decides what to print for each sample: on a TTY the bar is redrawn (at most every `redrawMs`); elsewhere (CI, a
 * pipe) one line every `lineEveryMs` (10 s) and one at the end, so logs stay short.
 */
export function createProgressPrinter(options: {
  readonly isTty: boolean;
  readonly write: (text: string) => void;
  readonly lineEveryMs?: number;
  readonly redrawMs?: number;
  readonly label?: string;
}) {
  const samples: ProgressSample[] = [];
  const lineEvery = options.lineEveryMs ?? 10_000;
  const redraw = options.redrawMs ?? 200;
  const label = options.label ? `${options.label} ` : '';
  let lastPrint = -Infinity;
  let drawn = false;
  return {
    update(sample: ProgressSample): void {
      samples.push(sample);
      if (samples.length > 600) samples.splice(0, samples.length - 600);
      const stats = progressStats(samples);
      if (options.isTty) {
        if (sample.atMs - lastPrint < redraw) return;
        options.write(`\r\x1b[K${label}${progressBar(stats)}`);
        drawn = true;
      } else {
        if (sample.atMs - lastPrint < lineEvery) return;
        options.write(`${label}${progressText(stats)}\n`);
      }
      lastPrint = sample.atMs;
    },
    /** The final line (always printed), ending the bar on a TTY. */
    done(): void {
      if (samples.length === 0) return;
      const text = progressText(progressStats(samples));
      options.write(options.isTty ? `\r\x1b[K${label}${progressBar(progressStats(samples))}\n` : `${label}${text}\n`);
      drawn = false;
    },
    get drawn() {
      return drawn;
    },
  };
}
