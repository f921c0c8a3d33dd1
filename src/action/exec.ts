/** Runs a command and keeps what it printed; its stderr also goes to the job log as it comes. */
import { spawn } from 'node:child_process';

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the child's stderr is echoed (the job log); nothing when absent. */
  readonly log?: (chunk: string) => void;
}

/** Spawns `argv[0] argv[1..]` without a shell (no quoting to get wrong). */
export function runCommand(argv: readonly string[], options: RunOptions): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const env = options.env ?? process.env;
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      options.log?.(chunk.toString('utf8'));
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}
