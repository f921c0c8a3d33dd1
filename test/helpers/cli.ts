/** Runs the CLI in-process with a fake Io (captured stdout/stderr), or as a child process through bin/lambda-ml. */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

/** The repository root (…/test/helpers/../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The executable under test. */
export const BIN = join(REPO_ROOT, 'bin', 'lambda-ml');

/** What a CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A writable that keeps what it is given as a string; `isTTY` as asked. */
export class CaptureStream extends Writable {
  text = '';
  readonly isTTY: boolean;
  readonly columns: number;
  constructor(isTTY = false, columns = 80) {
    super();
    this.isTTY = isTTY;
    this.columns = columns;
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    done();
  }
}

/** Options of a fake Io. */
export interface FakeIoOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly isTTY?: boolean;
}

/** A non-TTY Io with NO_COLOR=1 (unless overridden) whose streams capture their output. */
export function fakeIo(options: FakeIoOptions = {}): Io & { stdout: CaptureStream; stderr: CaptureStream } {
  return {
    stdout: new CaptureStream(options.isTTY ?? false),
    stderr: new CaptureStream(options.isTTY ?? false),
    env: options.env ?? { NO_COLOR: '1' },
    cwd: options.cwd ?? process.cwd(),
  };
}

/** Runs `lambda-ml ...args` in-process, as bin.ts would (argv = node, script, ...args). */
export async function runCli(args: readonly string[], options: FakeIoOptions = {}): Promise<CliResult> {
  const io = fakeIo(options);
  const code = await main(['node', 'lambda-ml', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

/** Options of a spawned run. */
export interface RunBinOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv; // added to the parent's env (NO_COLOR=1 is always set)
  readonly timeoutMs?: number;
}

/** Spawns `node bin/lambda-ml ...args` (the built dist/ when present) and collects its output. */
export function runBin(args: readonly string[], options: RunBinOptions = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env, NO_COLOR: '1', FORCE_COLOR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', fail);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === null) fail(new Error(`lambda-ml ${args.join(' ')} ended by ${signal}\n${stderr}`));
      else done({ code, stdout, stderr });
    });
  });
}

/** True when `text` holds an ANSI escape sequence. */
export const hasAnsi = (text: string) => /\x1b\[/.test(text);
