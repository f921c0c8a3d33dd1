/** Benchmark helpers: wall time of commands, medians, paired ratios. */
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const GENERATED = join(ROOT, 'fixtures', 'generated');
export const BIN = join(ROOT, 'bin', 'lambda-ml');

/** Runs a command and returns its wall time in ms (throws on a non-zero exit unless `allowExit`). */
export function timeCommand(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; allowExit?: number[] } = {},
): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(cmd, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 28,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && !(options.allowExit ?? []).includes(result.status ?? -1))
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr?.toString().slice(0, 500)}`);
  return ms;
}

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Alternates A and B `runs` times (pairs share machine conditions) and returns both medians and the ratio A/B. */
export function paired(
  runs: number,
  a: () => number,
  b: () => number,
): { a: number; b: number; ratio: number; ratios: number[] } {
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ta = a();
    const tb = b();
    as.push(ta);
    bs.push(tb);
    ratios.push(ta / tb);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios), ratios };
}

export const sh = (cmd: string, cwd?: string) =>
  execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
export const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
