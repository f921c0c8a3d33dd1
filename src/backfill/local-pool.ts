/**
 * N Lambda-like execution environments for `backfill --local` (docs/backfill.md, "--local"): function.zip unpacked
 * once into a shared, read-only task root, a fresh /tmp per environment, one child process each (on the runtime's
 * Node, heap capped at the memory setting, Lambda's environment variables), started on first use and kept warm. A
 * timeout or a crash ends that environment, as on Lambda; the next invocation in that slot cold-starts a new one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractZip } from '../handler/zip-extract.js';
import { lambdaEnv, nodeRuntimeOf } from '../invoke/local-invoke.js';
import { inputError, LambdaMlError } from '../lib/errors.js';
import type { Manifest } from '../types.js';
import type { InvocationOutcome } from './batch-event.js';
import type { WorkerInvoke, WorkerMessage } from './local-worker.js';

export interface PoolOptions {
  readonly manifest: Manifest;
  readonly outDir: string; // the --out folder holding function.zip
  readonly size: number;
  readonly env: NodeJS.ProcessEnv; // the caller's (AWS credentials and region pass through)
  readonly endpoint?: string | null; // an S3 endpoint for the handler (s3rver in tests)
  readonly nodePath?: string;
  readonly onLog?: (slot: number, line: string) => void;
}

export type PoolOutcome = InvocationOutcome & { readonly ms: number; readonly coldStart: boolean };

export interface FunctionPool {
  readonly size: number;
  readonly taskRoot: string;
  /** Invokes the handler in `slot` with `event`; throws only when the handler cannot be loaded at all. */
  invoke(slot: number, event: unknown): Promise<PoolOutcome>;
  /** Cold starts, environments ended by a timeout or crash, and the pid of each slot's current child. */
  stats(): { coldStarts: number; restarts: number; pids: (number | null)[] };
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The worker module: built (dist/) or TypeScript through tsx's loader, given by URL (the child's cwd has no tsx). */
function workerModule(): { path: string; execArgv: string[] } {
  if (existsSync(join(here, 'local-worker.js'))) return { path: join(here, 'local-worker.js'), execArgv: [] };
  return { path: join(here, 'local-worker.ts'), execArgv: ['--import', import.meta.resolve('tsx')] };
}

interface Env {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  stderr: string;
  pending: { id: number; resolve: (o: PoolOutcome) => void; timer: NodeJS.Timeout; cold: boolean } | null;
  warm: boolean;
}

/** Unpacks function.zip and returns a pool; children start on first use. */
export async function startFunctionPool(options: PoolOptions): Promise<FunctionPool> {
  const { manifest } = options;
  nodeRuntimeOf(manifest);
  const fn = manifest.function;
  const zipPath = join(options.outDir, manifest.artifacts.function.file);
  if (!existsSync(zipPath)) throw inputError(`${zipPath} not found`, 'run lambda-ml package first');
  const session = await mkdtemp(join(tmpdir(), 'lambda-ml-backfill-'));
  const taskRoot = join(session, 'task');
  await mkdir(taskRoot);
  try {
    await extractZip(await readFile(zipPath), taskRoot);
  } catch (error) {
    await rm(session, { recursive: true, force: true });
    throw error;
  }
  const worker = workerModule();
  const envs: (Env | null)[] = Array.from({ length: options.size }, () => null);
  let coldStarts = 0;
  let restarts = 0;
  let nextId = 1;
  let closed = false;

  const spawn = async (slot: number): Promise<Env> => {
    const tmp = join(session, `tmp-${slot}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    const child = fork(worker.path, [], {
      cwd: taskRoot,
      env: lambdaEnv(manifest, taskRoot, tmp, options.env, options.endpoint ?? null),
      execPath: options.nodePath ?? process.execPath,
      execArgv: [...worker.execArgv, `--max-old-space-size=${fn.memoryMb}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    coldStarts++;
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        options.onLog?.(slot, buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    let readyResolve!: () => void;
    let readyReject!: (error: Error) => void;
    const env: Env = {
      child,
      stderr: '',
      pending: null,
      warm: false,
      ready: new Promise<void>((resolve, reject) => {
        readyResolve = resolve;
        readyReject = reject;
      }),
    };
    env.ready.catch(() => {});
    child.stderr?.on('data', (chunk: Buffer) => {
      env.stderr = (env.stderr + chunk.toString('utf8')).slice(-8192);
    });
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') readyResolve();
      else if (message.type === 'load-error') {
        const hint = 'check the packaged function with lambda-ml package --verbose';
        readyReject(new LambdaMlError('input', `the handler failed to load: ${message.message}`, hint));
      } else if (message.type === 'result' && env.pending?.id === message.id) {
        const { resolve, timer, cold } = env.pending;
        clearTimeout(timer);
        env.pending = null;
        env.warm = true;
        resolve(
          message.ok
            ? { ok: true, result: message.result, ms: message.ms, coldStart: cold }
            : { ok: false, error: message.error, ms: message.ms, coldStart: cold },
        );
      }
    });
    child.on('exit', (code, signal) => {
      if (envs[slot] === env) envs[slot] = null;
      const oom = /heap out of memory/i.test(env.stderr);
      const why = oom ? `out of memory at ${fn.memoryMb} MB` : `exited (${signal ?? `code ${code}`})`;
      const tail = env.stderr.trim().split('\n').slice(-3).join(' | ');
      readyReject(new LambdaMlError('input', `the function process ${why} before it was ready`, `stderr: ${tail}`));
      if (env.pending) {
        const { resolve, timer, cold } = env.pending;
        clearTimeout(timer);
        env.pending = null;
        if (!closed) restarts++;
        const error = { type: 'Runtime.ExitError', message: `Runtime exited: ${why}` };
        resolve({ ok: false, error, ms: 0, coldStart: cold });
      }
    });
    return env;
  };

  return {
    size: options.size,
    taskRoot,
    async invoke(slot, event) {
      if (closed) throw new Error('the function pool is closed');
      let env = envs[slot];
      if (!env) envs[slot] = env = await spawn(slot);
      await env.ready;
      if (env.pending) throw new Error(`slot ${slot} is busy`);
      const id = nextId++;
      const timeoutMs = fn.timeoutS * 1000;
      const current = env;
      return new Promise<PoolOutcome>((resolve) => {
        const timer = setTimeout(() => {
          // Lambda ends an environment whose invocation timed out; so does this pool.
          current.pending = null;
          restarts++;
          if (envs[slot] === current) envs[slot] = null;
          current.child.kill('SIGKILL');
          const error = { type: 'Sandbox.Timedout', message: `Task timed out after ${fn.timeoutS.toFixed(2)} seconds` };
          resolve({ ok: false, error, ms: timeoutMs, coldStart: !current.warm });
        }, timeoutMs);
        current.pending = { id, resolve, timer, cold: !current.warm };
        const message: WorkerInvoke = { type: 'invoke', id, event, timeoutMs };
        current.child.send(message);
      });
    },
    stats: () => ({ coldStarts, restarts, pids: envs.map((e) => e?.child.pid ?? null) }),
    async close() {
      closed = true;
      const exits = envs
        .filter((e): e is Env => e !== null)
        .map(
          (e) =>
            new Promise<void>((resolve) => {
              if (e.child.exitCode !== null || e.child.signalCode !== null) return resolve();
              e.child.once('exit', () => resolve());
              e.child.kill('SIGKILL');
            }),
        );
      await Promise.all(exits);
      await rm(session, { recursive: true, force: true });
    },
  };
}
