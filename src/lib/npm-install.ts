/**
 * Installs npm packages into a folder of lambda-ml's cache with the user's own npm: Node binaries for `invoke --local`
 * (invoke/node-cache.ts) and the handler's native packages for another OS and CPU (measure/native-packages.ts).
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where lambda-ml keeps downloads: LAMBDA_ML_CACHE, else $XDG_CACHE_HOME/lambda-ml, else ~/.cache/lambda-ml. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.LAMBDA_ML_CACHE) return env.LAMBDA_ML_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'lambda-ml');
  return join(env.HOME || homedir(), '.cache', 'lambda-ml');
}

/**
 * Why npm could not install; `reason` alone is npm's error code (`E404`, `ENOTFOUND`), `exit 1`, or why npm did
 * not run.
 */
export class NpmInstallError extends Error {
  override name = 'NpmInstallError';
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.reason = reason;
  }
}

export interface NpmInstallOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** More npm flags, e.g. `--os=linux --cpu=arm64` (another platform's optional packages), `--prefer-offline`. */
  readonly flags?: readonly string[];
}

/**
 * `npm install --no-save --prefix PREFIX SPECS...`, with few retries so that offline fails in seconds, not minutes.
 */
export function npmInstall(specs: readonly string[], prefix: string, options: NpmInstallOptions): Promise<void> {
  const args = [
    'install',
    '--no-save',
    '--no-audit',
    '--no-fund',
    '--no-package-lock',
    '--prefix',
    prefix,
    '--fetch-retries=1',
    '--fetch-retry-mintimeout=2000',
    '--fetch-retry-maxtimeout=5000',
    ...(options.flags ?? []),
    ...specs,
  ];
  return new Promise((done, fail) => {
    const child = spawn('npm', args, {
      cwd: prefix, // not the project: its .npmrc and package.json are not this install's
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Not spawn's own `timeout`: its timer outlives a spawn that failed (npm not found) and holds the process open.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = error.code === 'ENOENT' ? 'npm is not on PATH' : `cannot run npm (${error.code})`;
      fail(new NpmInstallError(why, why));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return done();
      const reason =
        /npm (?:error|ERR!) code (\S+)/.exec(stderr)?.[1] ?? (signal ? `killed by ${signal}` : `exit ${code}`);
      fail(new NpmInstallError(`npm install ${specs.join(' ')} failed (${reason})`, reason));
    });
  });
}
