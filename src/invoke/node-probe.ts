/** Runs a would-be Node binary with --version: whether it runs, and which Node it is. */
import { execFile } from 'node:child_process';

/** A Node binary that ran. */
export interface ProbedNode {
  readonly version: string; // "24.22.3"
  readonly major: number;
}

/** Resolves with the version `path --version` prints; rejects with a one-line reason. */
export function probeNode(path: string): Promise<ProbedNode> {
  return new Promise((done, fail) => {
    execFile(path, ['--version'], { timeout: 10_000, env: { PATH: process.env.PATH } }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOENT'
            ? 'not found'
            : code === 'EACCES'
              ? 'not executable'
              : `does not run (${typeof code === 'string' ? code : error.killed ? 'timed out' : `exit ${code}`})`;
        return fail(new Error(`${path}: ${why}`));
      }
      const match = /^v(\d+)\.(\d+)\.(\d+)\s*$/.exec(stdout);
      const printed = stdout.trim().split('\n')[0].slice(0, 40);
      if (!match) return fail(new Error(`${path}: not a Node binary (--version printed "${printed}")`));
      done({ version: `${match[1]}.${match[2]}.${match[3]}`, major: Number(match[1]) });
    });
  });
}
