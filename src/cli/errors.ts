/** Prints an error: one line (+ hint) for known errors, the stack for bugs; JSON under --json. */
import { exitCodeFor, LambdaMlError, type ExitCode } from '../lib/errors.js';
import type { GlobalOptions, Io } from './io.js';
import { makeColors } from './io.js';

/** Writes the error and returns its exit code (docs/design.md §3). */
export function reportError(error: unknown, io: Io, opts: GlobalOptions): ExitCode {
  const code = exitCodeFor(error);
  const known = error instanceof LambdaMlError;
  const message = error instanceof Error ? error.message : String(error);
  if (opts.json) {
    const details = known && error.details.length > 0 ? { details: error.details } : {};
    const body = {
      schemaVersion: 1,
      ok: false,
      error: {
        code: known ? error.code : 'internal',
        message,
        hint: known
          ? (error.hint ?? null)
          : 'this is a bug in lambda-ml: please report it with the output of --verbose',
        exitCode: code,
        ...details,
      },
    };
    io.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return code;
  }
  const c = makeColors({ ...io, stdout: io.stderr }, opts);
  io.stderr.write(`${c.red('error:')} ${message.split('\n')[0]}\n`);
  if (known) for (const line of error.details) io.stderr.write(`  ${line}\n`);
  if (known && error.hint) io.stderr.write(`${c.dim('hint:')} ${error.hint}\n`);
  if (!known)
    io.stderr.write(`${c.dim('this is a bug in lambda-ml; details:')}\n${(error as Error)?.stack ?? message}\n`);
  else if (opts.verbose) {
    let cause = (error as Error).cause;
    while (cause) {
      io.stderr.write(
        `${c.dim('cause:')} ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`,
      );
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  return code;
}
