/** The call recorder every deploy step goes through: reads run, writes run or (dry run) are only listed. */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { isMissingCredentials, isUpdateInProgress } from '../remote/aws-errors.js';

/** One AWS call deploy made (or, in a dry run, would make), with its key parameters. */
export interface DeployCall {
  readonly op: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly write: boolean;
}

/** Progress of a long step: uploads report bytes sent. */
export type DeployProgress =
  | { readonly phase: 'upload'; readonly key: string; readonly loaded: number; readonly total: number }
  | { readonly phase: 'call'; readonly op: string; readonly write: boolean };

/** Waiter timing in seconds (the SDK's units); tests shrink them. */
export interface WaitOptions {
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly maxWaitTime: number;
  /** Retries of a write answered 409 "update in progress" (someone else's update, or a waiter that returned early). */
  readonly conflictRetries: number;
}

export const DEFAULT_WAIT: WaitOptions = { minDelay: 1, maxDelay: 5, maxWaitTime: 300, conflictRetries: 6 };

export interface DeployContext {
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly dryRun: boolean;
  readonly wait: WaitOptions;
  readonly calls: DeployCall[];
  readonly log: (line: string) => void;
  readonly progress: (event: DeployProgress) => void;
  /** The call being made: named in the error when a step fails. */
  step: string;
  /** Dry run only: no credentials were found; reads are listed, not made (the calls are those for a new function). */
  offline: boolean;
  /**
   * A read: always made, also in a dry run. Offline, it is answered by `offline` when given, else as "not found".
   */
  read<T>(op: string, params: Record<string, unknown>, run: () => Promise<T>, offline?: () => T): Promise<T>;
  /** A write: made (409 "update in progress" retried after a wait), or in a dry run listed and answered by `dry`. */
  write<T>(op: string, params: Record<string, unknown>, run: () => Promise<T>, dry: () => T): Promise<T>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ContextOptions {
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly dryRun?: boolean;
  readonly wait?: Partial<WaitOptions>;
  readonly log?: (line: string) => void;
  readonly onProgress?: (event: DeployProgress) => void;
}

/** Makes the recorder. */
export function makeContext(options: ContextOptions): DeployContext {
  const wait = { ...DEFAULT_WAIT, ...options.wait };
  const calls: DeployCall[] = [];
  const log = options.log ?? (() => {});
  const progress = options.onProgress ?? (() => {});
  const dryRun = options.dryRun ?? false;
  const ctx: DeployContext = {
    lambda: options.lambda,
    s3: options.s3,
    dryRun,
    wait,
    calls,
    log,
    progress,
    step: 'start',
    offline: false,
    async read(op, params, run, offline) {
      ctx.step = op;
      calls.push({ op, params, write: false });
      progress({ phase: 'call', op, write: false });
      const answerOffline = () => {
        if (offline) return offline();
        throw Object.assign(new Error(`${op} was not made (dry run without AWS credentials)`), { name: 'NotFound' });
      };
      if (ctx.offline) return answerOffline();
      try {
        return await run();
      } catch (error) {
        // A dry run without credentials still shows the calls: those for a function and objects that do not exist yet
        if (!dryRun || !isMissingCredentials(error)) throw error;
        ctx.offline = true;
        return answerOffline();
      }
    },
    async write(op, params, run, dry) {
      ctx.step = op;
      calls.push({ op, params, write: true });
      progress({ phase: 'call', op, write: true });
      if (dryRun) return dry();
      for (let attempt = 0; ; attempt++) {
        try {
          return await run();
        } catch (error) {
          // Lambda answers 409 while a create/update is still in progress: wait, then try again
          if (!isUpdateInProgress(error) || attempt >= wait.conflictRetries) throw error;
          const delay = Math.min(wait.maxDelay, wait.minDelay * 2 ** attempt) * 1000;
          log(`${op}: an update is in progress, retrying in ${Math.round(delay)} ms`);
          await sleep(delay);
        }
      }
    },
  };
  return ctx;
}
