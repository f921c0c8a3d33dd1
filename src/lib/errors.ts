import { fsWording } from './fs-wording.js';

/** Error codes map one-to-one to exit codes (docs/design.md §3). */
export type ErrorCode = 'usage' | 'config' | 'input' | 'over-budget' | 'aws' | 'internal';

/** Exit codes of every command (docs/design.md §3). */
export const EXIT = { OK: 0, OVER_BUDGET: 1, BAD_INPUT: 2, REMOTE: 3, BUG: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The one error class of lambda-ml: a message, a hint that says how to fix it, and the cause chain. */
export class LambdaMlError extends Error {
  override name = 'LambdaMlError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** One line per item when the error is about many things (e.g. every binary the native audit refused). */
  readonly details: readonly string[];
  constructor(
    code: ErrorCode,
    message: string,
    hint?: string,
    options?: ErrorOptions & { details?: readonly string[] },
  ) {
    super(message, options);
    this.code = code;
    this.hint = hint;
    this.details = Object.freeze([...(options?.details ?? [])]);
  }
}

/** Shorthand for bad input (exit 2). */
export const inputError = (message: string, hint?: string, cause?: unknown) =>
  new LambdaMlError('input', message, hint, cause === undefined ? undefined : { cause });

/** Shorthand for a config error (exit 2). */
export const configError = (message: string, hint?: string) => new LambdaMlError('config', message, hint);

/** Shorthand for an AWS/S3 failure (exit 3). */
export const awsError = (message: string, hint?: string, cause?: unknown) =>
  new LambdaMlError('aws', message, hint, cause === undefined ? undefined : { cause });

/** Exit code for any thrown value: known errors map by code, anything else is a bug (4). */
export function exitCodeFor(error: unknown): ExitCode {
  if (!(error instanceof LambdaMlError)) return EXIT.BUG;
  switch (error.code) {
    case 'over-budget':
      return EXIT.OVER_BUDGET;
    case 'aws':
      return EXIT.REMOTE;
    case 'internal':
      return EXIT.BUG;
    default:
      return EXIT.BAD_INPUT;
  }
}

/**
 * Wraps a Node fs error into a one-line input error naming the file. `what` is the operation ("read", "list",
 * "write", "create", ...): reads and writes get their own wording (lib/fs-wording.ts); `hint` overrides the hint.
 */
export function fsError(error: unknown, path: string, what = 'read', hint?: string): LambdaMlError {
  const wording = fsWording((error as NodeJS.ErrnoException)?.code, path, what, (error as Error)?.message);
  return inputError(wording.message, hint ?? wording.hint, error);
}
