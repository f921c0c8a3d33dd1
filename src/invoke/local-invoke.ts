/**
 * `invoke --local`: run the packaged function.zip in a child process that looks like Lambda, on the runtime's Node
 * (node-binary.ts picks the binary; docs/design.md, "invoke --local").
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractZip } from '../handler/zip-extract.js';
import { inputError, LambdaMlError } from '../lib/errors.js';
import { MiB } from '../lib/limits.js';
import { S3_ENDPOINT_VARIABLES } from '../lib/s3-endpoint.js';
import { layerModulePaths, recordFor } from '../runtimes/registry.js';
import { findRuntime, type LambdaRuntime } from '../runtimes/table.js';
import type { Manifest } from '../types.js';
import type { RunnerReport } from './runner.js';

export interface LocalInvokeOptions {
  readonly manifest: Manifest;
  readonly outDir: string;
  readonly event: unknown;
  readonly repeat?: number;
  readonly endpoint?: string | null;
  readonly env: NodeJS.ProcessEnv; // the caller's: AWS credentials and region pass through, as Lambda gives the role's
  readonly keep?: boolean; // keep the task root and /tmp for inspection
  readonly onLog?: (line: string) => void;
  /** The Node binary to run the function on (default: this process's). */
  readonly nodePath?: string;
  /** Aborting kills the function process; the session folder is removed as always. */
  readonly signal?: AbortSignal;
}

export interface LocalInvokeReport {
  readonly taskRoot: string;
  readonly unpackMs: number;
  readonly importMs: number;
  readonly invocations: RunnerReport['invocations'];
  readonly logs: readonly Record<string, unknown>[];
  readonly stderr: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The runner, built (dist/) or as TypeScript (from src/, run through tsx's loader given by absolute URL). */
function runnerModule(): { path: string; execArgv: string[] } {
  if (existsSync(join(here, 'runner.js'))) return { path: join(here, 'runner.js'), execArgv: [] };
  // A bare `--import tsx` resolves from the child's cwd (the task root), which has no tsx: give its URL instead.
  return { path: join(here, 'runner.ts'), execArgv: ['--import', import.meta.resolve('tsx')] };
}

/** The manifest's runtime from the table, when its record runs locally (invoke runs Node handlers only). */
export function nodeRuntimeOf(manifest: Manifest): LambdaRuntime {
  const id = manifest.function.runtime;
  const runtime = findRuntime(id);
  if (!runtime) {
    const hint = 'set function.runtime in the config and run lambda-ml package again';
    throw inputError(`manifest.json: function.runtime "${id}" is not a Lambda runtime`, hint);
  }
  const { invoke } = recordFor(runtime);
  if (!invoke.local) throw inputError(`invoke --local runs Node handlers; this function uses ${id}`, invoke.hint);
  return runtime;
}

/** Unpacks function.zip into a fresh task root, gives it a fresh /tmp, and runs the handler in a child. */
export async function invokeLocal(options: LocalInvokeOptions): Promise<LocalInvokeReport> {
  const { manifest } = options;
  const fn = manifest.function;
  nodeRuntimeOf(manifest);
  options.signal?.throwIfAborted();
  const session = await mkdtemp(join(tmpdir(), 'lambda-ml-invoke-'));
  const taskRoot = join(session, 'task');
  const tmp = join(session, 'tmp');
  try {
    await mkdir(tmp);
    await mkdir(taskRoot); // extractZip needs it: a zip of top-level files only has no entry that creates it
    const started = performance.now();
    const zipPath = join(options.outDir, manifest.artifacts.function.file);
    if (!existsSync(zipPath)) throw inputError(`${zipPath} not found`, 'run lambda-ml package first');
    await extractZip(await readFile(zipPath), taskRoot);
    const unpackMs = Math.round(performance.now() - started);
    const runner = runnerModule();
    const env = lambdaEnv(manifest, taskRoot, tmp, options.env, options.endpoint ?? null);
    const logs: Record<string, unknown>[] = [];
    let stderr = '';
    const report = await new Promise<RunnerReport>((done, fail) => {
      let settled = false;
      const child = fork(runner.path, [], {
        cwd: taskRoot,
        env,
        execPath: options.nodePath ?? process.execPath,
        // The memory setting caps the heap, as Lambda's memory size caps the process. The young generation is pinned
        // at Node 20/22's 16 MiB semi-spaces: Node 24 sizes it from the host's memory (3 x 64 MiB here), which would
        // let a 256 MB function's heap grow to 448 MiB.
        execArgv: [...runner.execArgv, `--max-old-space-size=${fn.memoryMb}`, '--max-semi-space-size=16'],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        signal: options.signal,
        killSignal: 'SIGKILL',
      });
      child.on('error', (error: Error) => {
        settled = true;
        const failed = new LambdaMlError(
          'input',
          `cannot start the function process (${error.message})`,
          'check --node',
        );
        fail(options.signal?.aborted ? options.signal.reason : failed);
      });
      let buffered = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          options.onLog?.(line);
          try {
            const parsed = JSON.parse(line);
            if (parsed && typeof parsed === 'object') logs.push(parsed);
          } catch {
            // plain console output of the handler
          }
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      child.on('message', (message: { ok: boolean; report?: RunnerReport; error?: { message: string } }) => {
        settled = true;
        if (message.ok && message.report) done(message.report);
        else
          fail(
            new LambdaMlError(
              'input',
              `the handler failed to load: ${message.error?.message}`,
              'check the packaged function with lambda-ml package --verbose',
            ),
          );
      });
      child.on('exit', (code, signal) => {
        if (settled) return;
        settled = true;
        if (options.signal?.aborted) return fail(options.signal.reason);
        fail(
          new LambdaMlError(
            'input',
            `the function process exited (${signal ?? `code ${code}`}) before ` +
              `answering${/heap out of memory/i.test(stderr) ? `: out of memory at ${fn.memoryMb} MB` : ''}`,
            /heap out of memory/i.test(stderr)
              ? 'raise function.memoryMb'
              : `stderr: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
      });
      child.send({ event: options.event, repeat: options.repeat ?? 1, timeoutMs: fn.timeoutS * 1000 });
    });
    return { taskRoot, unpackMs, importMs: report.importMs, invocations: report.invocations, logs, stderr };
  } finally {
    if (!options.keep) await rm(session, { recursive: true, force: true });
  }
}

/** The environment Lambda's Node runtime sets, plus the caller's credentials and a local S3 endpoint. */
export function lambdaEnv(
  manifest: Manifest,
  taskRoot: string,
  tmp: string,
  callerEnv: NodeJS.ProcessEnv,
  endpoint: string | null,
): NodeJS.ProcessEnv {
  const fn = manifest.function;
  const runtime = nodeRuntimeOf(manifest);
  const region = manifest.region ?? callerEnv.AWS_REGION ?? callerEnv.AWS_DEFAULT_REGION ?? 'us-east-1';
  const pass = [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_CONFIG_FILE',
    'HOME',
    'PATH',
    ...S3_ENDPOINT_VARIABLES,
  ];
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    pass.filter((k) => callerEnv[k] !== undefined).map((k) => [k, callerEnv[k]]),
  );
  return {
    ...env,
    ...fn.environment,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime.id}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    // Lambda's NODE_PATH: the layer folders of this runtime, the runtime's own modules, the task root.
    NODE_PATH: [...layerModulePaths(runtime), '/var/runtime/node_modules', `${taskRoot}/node_modules`].join(':'),
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    // A fresh /tmp of the configured size: the handler's free-space checks honour this limit.
    LAMBDA_ML_TMP: tmp,
    LAMBDA_ML_TMP_LIMIT_BYTES: String(fn.ephemeralStorageMb * MiB),
    ...(endpoint ? { AWS_ENDPOINT_URL_S3: endpoint } : {}),
    NO_COLOR: '1',
  };
}
