/** Helpers of the `package` tests: spawn bin/lambda-ml, read zips with real readers, snapshot folders. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The executable under test (runs dist/ when built). */
export const BIN = join(REPO_ROOT, 'bin', 'lambda-ml');

/** What a spawned run printed and how it ended. */
export interface BinResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of a spawned run. */
export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv; // added to the parent's (NO_COLOR=1 always)
  readonly timeoutMs?: number;
  readonly shell?: string; // a bash prefix such as 'ulimit -f 2048;' (then the CLI runs through bash -c)
}

function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  delete env.NODE_TEST_CONTEXT; // the child is a CLI, not a test file
  return env;
}

/** Starts `node bin/lambda-ml ...args` (or through bash with `shell` as a prefix) without waiting. */
export function spawnBin(args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const [command, argv] =
    options.shell !== undefined
      ? ['bash', ['-c', `${options.shell} exec ${quoted}`]]
      : [process.execPath, [BIN, ...args]];
  return spawn(command as string, argv as string[], {
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a spawned child's output and end. */
export function finished(child: ChildProcess, timeoutMs = 300_000): Promise<BinResult> {
  return new Promise((done, fail) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Runs `lambda-ml ...args` to the end. */
export const runBin = (args: readonly string[], options: SpawnOptions = {}): Promise<BinResult> =>
  finished(spawnBin(args, options), options.timeoutMs);

/** `lambda-ml package --config CONFIG --out OUT ...extra`. */
export const runPackageBin = (config: string, out: string, extra: readonly string[] = [], options: SpawnOptions = {}) =>
  runBin(['package', '--config', config, '--out', out, ...extra], options);

/** Asserts a failed run printed exactly one `error:` line (and at most a `hint:` line), no stack, nothing on stdout. */
export function assertOneLineError(result: BinResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, `exit ${result.code} (${result.signal ?? ''}), expected ${code}\n${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.match(lines[0], /^error: /, result.stderr);
  assert.match(lines[0], message, result.stderr);
  assert.ok(
    lines.length <= 2 && (lines.length === 1 || lines[1].startsWith('hint: ')),
    `one error line (+ hint):\n${result.stderr}`,
  );
  assert.equal(result.stdout, '');
}

/** A temp folder removed after the test. */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'lambda-ml-pkg-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** sha256 hex of a file, computed fresh. */
export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every regular file under `dir` (dotfiles too) -> its sha256; symlinks -> "-> target". */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const dirent of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${dirent.name}` : dirent.name;
      if (dirent.isDirectory()) walk(path);
      else if (dirent.isFile()) out.set(path, sha256File(join(dir, path)));
      else out.set(path, `other:${dirent.isSymbolicLink()}`);
    }
  };
  walk('');
  return out;
}

/** Temp folders (`.<out>.tmp-*`) a run left beside `out`. */
export const tempsBeside = (out: string): string[] =>
  existsSync(dirname(out)) ? readdirSync(dirname(out)).filter((n) => n.startsWith(`.${basename(out)}.tmp-`)) : [];

/** Zip totals as three independent readers see them: `unzip -l`, `zipinfo` and Python's zipfile. */
export interface ZipTotals {
  readonly unzipList: { bytes: number; files: number };
  readonly zipinfo: { bytes: number; entries: number };
  readonly python: { bytes: number; files: number; entries: number };
}

export function zipTotals(zip: string): ZipTotals {
  const list = execFileSync('unzip', ['-l', zip], { maxBuffer: 256 << 20 })
    .toString()
    .trimEnd()
    .split('\n');
  const last = /^\s*(\d+)\s+(\d+) files?$/.exec(list[list.length - 1]);
  assert.ok(last, `unzip -l total line: ${list[list.length - 1]}`);
  const info = execFileSync('zipinfo', ['-t', zip]).toString().trim();
  const zi = /^(\d+) files?, (\d+) bytes uncompressed/.exec(info);
  assert.ok(zi, `zipinfo -t: ${info}`);
  const py = JSON.parse(
    execFileSync('python3', [
      '-c',
      [
        'import json, sys, zipfile',
        'z = zipfile.ZipFile(sys.argv[1])',
        'infos = z.infolist()',
        'files = [i for i in infos if not i.is_dir()]',
        'print(json.dumps({"bytes": sum(i.file_size for i in infos), "files": len(files), "entries": len(infos)}))',
      ].join('\n'),
      zip,
    ]).toString(),
  );
  return {
    unzipList: { bytes: Number(last[1]), files: Number(last[2]) },
    zipinfo: { bytes: Number(zi[2]), entries: Number(zi[1]) },
    python: py,
  };
}

/** `unzip -tq` exits 0 (it throws otherwise). */
export function unzipTest(zip: string): string {
  return execFileSync('unzip', ['-tq', zip]).toString().trim();
}

/** Entry names (and unix modes) as Python's zipfile reads them. */
export function zipEntries(zip: string): { name: string; size: number; mode: number }[] {
  return JSON.parse(
    execFileSync(
      'python3',
      [
        '-c',
        [
          'import json, sys, zipfile',
          'print(json.dumps([{"name": i.filename, "size": i.file_size, "mode": ' +
            'i.external_attr >> 16} for i in zipfile.ZipFile(sys.argv[1]).infolist()]))',
        ].join('\n'),
        zip,
      ],
      { maxBuffer: 256 << 20 },
    ).toString(),
  );
}

/** Copies a tree as `cp -a` does (modes, mtimes, symlinks and sparse files kept). */
export const copyTree = (from: string, to: string): void => void execFileSync('cp', ['-a', from, to]);

/** Reads and rewrites a JSON file. */
export function editJson(path: string, edit: (value: Record<string, unknown>) => void): void {
  const value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(value);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Polls `check` every `everyMs` until it returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | null | undefined | false,
  timeoutMs: number,
  everyMs = 5,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
