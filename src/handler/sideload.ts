/**
 * Cold start for the sideload strategies (docs/design.md §7): get the deps archive (deps.tar.br or deps.zip), verify
 * it, and extract it once into /tmp/lambda-ml/<sha256>/ through a temp folder and an atomic rename.
 */
import { createReadStream } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { splitS3Url } from '../lib/s3-url.js';
import { RUNTIME_CONFIG_FILE, type RuntimeConfig } from '../types.js';
import { atomicDir, exists } from './atomic-dir.js';
import { cleanDeadTemps } from './dead-temps.js';
import { downloadTap, startDownload, type DownloadState } from './download.js';
import { makeS3BodyFetcher, makeS3Client } from './s3.js';
import { assertTmpSpace, isNoSpace, tmpSpaceError } from './tmp-space.js';
import { extractZip } from './zip-extract.js';

export type SideloadConfig = NonNullable<RuntimeConfig['sideload']>;

/** Starts a download of s3://bucket/key and resolves with its body (a stream of bytes). */
export type ArchiveFetcher = (bucket: string, key: string) => Promise<AsyncIterable<Uint8Array>>;
/** The name it had when only deps.zip existed. */
export type ZipFetcher = ArchiveFetcher;

/** Everything ensureDeps needs, injected so tests run it outside Lambda. */
export interface SideloadOptions {
  readonly config: SideloadConfig;
  readonly taskRoot: string;
  readonly tmpDir: string; // /tmp or LAMBDA_ML_TMP
  readonly env?: NodeJS.ProcessEnv;
  readonly remainingMs?: () => number; // context.getRemainingTimeInMillis
  readonly fetchZip?: ArchiveFetcher; // default: GetObject with @aws-sdk/client-s3, configured from `env`
  readonly safetyMs?: number; // time to keep for the invocation's own work
  readonly concurrency?: number;
}

/** What the cold start did. Times are ms; `startedAt`/`endedAt` are ms since the process started (the log's clock). */
export interface SideloadResult {
  readonly dir: string; // /tmp/lambda-ml/<sha256>
  readonly nodeModules: string; // where packages are
  readonly reused: boolean; // already extracted by an earlier start
  readonly format: 'tar.br' | 'zip';
  readonly timings: { readonly fetch: number; readonly verify: number; readonly extract: number };
  readonly startedAt: number;
  readonly endedAt: number;
  readonly cleaned: readonly string[];
}

const ms = (t0: number) => Math.round(performance.now() - t0);

/** The archive's facts, with older runtime configs (deps.zip only) read the same way. */
export function archiveOf(config: SideloadConfig) {
  const format = config.format ?? 'zip';
  const name = format === 'zip' ? 'deps.zip' : 'deps.tar.br';
  return {
    format,
    name,
    local: config.archive ?? config.zip,
    bytes: config.archiveBytes ?? config.zipBytes ?? 0,
    diskBytes: config.diskBytes ?? config.unzippedBytes,
    entries: config.entries ?? Number.MAX_SAFE_INTEGER,
  };
}

/** The default fetcher: a streamed GetObject with the SDK (inlined in the bundle; loaded here on first use). */
async function sdkFetcher(env: NodeJS.ProcessEnv): Promise<ArchiveFetcher> {
  const sdk = await import('@aws-sdk/client-s3');
  return makeS3BodyFetcher(sdk, makeS3Client(sdk, env));
}

/** The archive's bytes as a stream: from the task root (sideload-bundled) or from S3, deadline-checked. */
async function openArchive(opts: SideloadOptions, state: DownloadState): Promise<AsyncIterable<Uint8Array>> {
  const { config } = opts;
  const archive = archiveOf(config);
  if (archive.local) {
    const path = isAbsolute(archive.local) ? archive.local : join(opts.taskRoot, archive.local);
    return downloadTap(createReadStream(path, { highWaterMark: 1024 * 1024 }), state);
  }
  if (!config.s3) throw new Error(`${RUNTIME_CONFIG_FILE}: sideload has neither "archive" nor "s3"`);
  const location = splitS3Url(config.s3);
  if (!location) throw new Error(`${RUNTIME_CONFIG_FILE}: sideload.s3 "${config.s3}" is not an s3://bucket/key URL`);
  const remaining = opts.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const safety = opts.safetyMs ?? 1000;
  if (remaining() < safety) {
    throw new Error(
      `${archive.name} (${archive.bytes} bytes from ${config.s3}): only ${remaining()} ms left in this invocation, ` +
        'not enough to download it; raise function.timeoutS',
    );
  }
  const fetch = opts.fetchZip ?? (await sdkFetcher(opts.env ?? process.env));
  state.deadline = { remainingMs: remaining, safetyMs: safety };
  const body = await fetch(location.bucket, location.key).catch((error: Error) => {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    throw new Error(`S3 GetObject ${config.s3} failed: ${name}${error.message}`, { cause: error });
  });
  return downloadTap(body, state);
}

/** The sha256 check that comes before any rename: a wrong archive is never used. */
function checkArchive(opts: SideloadOptions, state: DownloadState): void {
  const { config } = opts;
  const { name } = archiveOf(config);
  const actual = state.hash.digest('hex');
  if (actual !== config.sha256) {
    throw new Error(
      `${name} sha256 mismatch: expected ${config.sha256}, got ${actual} (${state.received} bytes from ` +
        `${archiveOf(config).local ?? config.s3}). The archive is not the one this function was packaged with: ` +
        'run `lambda-ml deploy` again.',
    );
  }
}

/** deps.zip: read whole into memory (never written to /tmp), verified, then extracted 8 entries at a time. */
async function fillFromZip(opts: SideloadOptions, temp: string, timings: Record<string, number>): Promise<void> {
  const state = newState(opts);
  let t0 = performance.now();
  const chunks: Uint8Array[] = [];
  for await (const chunk of await openArchive(opts, state)) chunks.push(chunk);
  const zip = Buffer.concat(chunks, state.received);
  timings.fetch = ms(t0);
  t0 = performance.now();
  checkArchive(opts, state);
  timings.verify = ms(t0);
  t0 = performance.now();
  await extractZip(zip, temp, opts.concurrency ?? 8);
  timings.extract = ms(t0);
}

/** deps.tar.br: downloaded, hashed, decompressed and written in one pipeline, then verified before the rename. */
async function fillFromTarBr(opts: SideloadOptions, temp: string, timings: Record<string, number>): Promise<void> {
  const { config } = opts;
  const archive = archiveOf(config);
  const state = newState(opts);
  const t0 = performance.now();
  const source = await openArchive(opts, state);
  timings.fetch = ms(t0); // until the body starts: the rest overlaps with extraction
  // Loaded on first use: a deps.zip function never needs tar-stream (bundled, it is inlined either way).
  const { extractTarBr } = await import('./tar-extract.js');
  await extractTarBr(source, temp, `${archive.name} from ${archive.local ?? config.s3}`, {
    unpackedBytes: config.unzippedBytes,
    entries: archive.entries,
  });
  checkArchive(opts, state);
  timings.extract = ms(t0) - timings.fetch;
}

function newState(opts: SideloadOptions): DownloadState {
  const archive = archiveOf(opts.config);
  return startDownload(`${archive.name} from ${archive.local ?? opts.config.s3}`, archive.bytes);
}

/**
 * Makes the sideloaded deps available: removes what killed cold starts left behind, reuses /tmp/lambda-ml/<sha256>/
 * when an earlier start extracted it, else checks free space against the unpacked tree's blocks, gets the archive
 * (task root or S3), verifies its sha256 and extracts it atomically.
 */
export async function ensureDeps(opts: SideloadOptions): Promise<SideloadResult> {
  const startedAt = Math.round(performance.now());
  const { config, tmpDir } = opts;
  const archive = archiveOf(config);
  const base = join(tmpDir, 'lambda-ml');
  const final = join(base, config.sha256);
  // First, before the space check: repeated kills mid-extraction must not fill /tmp for good.
  const cleaned = await cleanDeadTemps(tmpDir);
  const timings = { fetch: 0, verify: 0, extract: 0 };
  let reused = true;
  if (!(await exists(final))) {
    // The archive itself is never written to /tmp: only the unpacked tree has to fit, in blocks.
    const what = `the sideloaded deps (${archive.name} unpacked, ${config.files} files)`;
    await assertTmpSpace(tmpDir, archive.diskBytes, what, opts.env);
    try {
      const result = await atomicDir(final, (temp) =>
        archive.format === 'tar.br' ? fillFromTarBr(opts, temp, timings) : fillFromZip(opts, temp, timings),
      );
      reused = !result.created;
    } catch (error) {
      // The temp folder is gone by now: what is free is what this start could have had.
      if (isNoSpace(error)) throw await tmpSpaceError(tmpDir, archive.diskBytes, what, opts.env, error);
      throw error;
    }
  }
  const nested = join(final, 'node_modules');
  return {
    dir: final,
    nodeModules: (await exists(nested)) ? nested : final,
    reused,
    format: archive.format,
    timings,
    startedAt,
    endedAt: Math.round(performance.now()),
    cleaned,
  };
}
