/** Everything the CLI touches of the process; tests pass a fake. */
import { Chalk, type ChalkInstance } from 'chalk';

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly color?: boolean;
}

/** The process's own streams. */
export const nodeIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

/** Colours only on a TTY, never with NO_COLOR, --no-color or --json (chalk does not check NO_COLOR itself). */
export function makeColors(io: Io, opts: GlobalOptions): ChalkInstance {
  const off =
    opts.json || opts.color === false || Boolean(io.env.NO_COLOR) || (!io.stdout.isTTY && !io.env.FORCE_COLOR);
  return new Chalk({ level: off ? 0 : 1 });
}

/** Progress goes to stderr, only on a TTY, never in CI or with --json/--quiet. */
export const showProgress = (io: Io, opts: GlobalOptions) =>
  !opts.json && !opts.quiet && Boolean(io.stderr.isTTY) && !io.env.CI;
