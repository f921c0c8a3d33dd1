/** A one-line progress indicator on stderr that appears only after `delayMs` (fast scans stay silent). */
import { formatBytes } from '../lib/bytes.js';
import type { Io } from './io.js';

export interface Progress {
  step(label: string): void;
  bytes(label: string, done: number, total: number): void;
  done(): void;
}

const SILENT: Progress = { step() {}, bytes() {}, done() {} };

/** Returns a no-op unless `enabled`; redraws at most every 100 ms. */
export function createProgress(io: Io, enabled: boolean, delayMs = 1000): Progress {
  if (!enabled) return SILENT;
  const started = Date.now();
  let last = 0;
  let shown = false;
  const draw = (text: string, force = false) => {
    const now = Date.now();
    if (now - started < delayMs || (!force && now - last < 100)) return;
    last = now;
    shown = true;
    const width = Math.max(20, (io.stderr.columns ?? 80) - 1);
    io.stderr.write(`\r\x1b[K${text.slice(0, width)}`);
  };
  return {
    step: (label) => draw(`${label}…`, true),
    bytes: (label, done, total) => {
      const ratio = total > 0 ? done / total : 0;
      const bar = '█'.repeat(Math.round(ratio * 20)).padEnd(20, '░');
      draw(`${label} ${bar} ${formatBytes(done)} / ${formatBytes(total)}`);
    },
    done: () => {
      if (shown) io.stderr.write('\r\x1b[K');
    },
  };
}
