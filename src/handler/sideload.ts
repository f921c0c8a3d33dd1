/** Cold start for the sideload strategies: get deps.zip, verify it, extract it once into /tmp/lambda-ml/<sha256>/. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { RuntimeConfig } from '../types.js';
import { atomicDir, cleanStaleTemps, exists } from './atomic-dir.js';
import { parseS3Url, s3GetObject } from './s3-lite.js';
import { assertTmpSpace } from './tmp-space.js';
import { extractZip } from './zip-extract.js';

export type SideloadConfig = NonNullable<RuntimeConfig['sideload']>;

/** A readable body with its size, as returned by a fetcher. */
export type ZipFetcher = (bucket: string, key: string) => Promise<AsyncIterable<Uint8Array>>;

/** Everything ensureDeps needs, injected so tests run it outside Lambda. */
export interface SideloadOptions {
  readonly config: SideloadConfig;
  readonly taskRoot: string;
  readonly tmpDir: string; // /tmp or LAMBDA_ML_TMP
  readonly env?: NodeJS.ProcessEnv;
  readonly remainingMs?: () => number; // context.getRemainingTimeInMillis
  readonly fetchZip?: ZipFetcher; // default: s3GetObject (built-ins only)
  readonly safetyMs?: number; // time to keep for the invocation's own work
  readonly concurrency?: number;
}

/** What the cold start did. */
export interface SideloadResult {
  readonly dir: string; // /tmp/lambda-ml/<sha256>
  readonly nodeModules: string; // where packages are
  readonly reused: boolean; // already extracted by an earlier start
  readonly timings: { readonly fetch: number; readonly verify: number; readonly extract: number };
  readonly cleaned: readonly string[];
}

const ms = (t0: number) => Math.round(performance.now() - t0);

/** Reads a body into memory, failing fast when the download would outlive the invocation. */
export async function readWithDeadline(
  body: AsyncIterable<Uint8Array>,
  expected: number,
  remainingMs: () => number,
  safetyMs: number,
  what: string,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  const t0 = performance.now();
  const deadlineAt = performance.now() + remainingMs() - safetyMs;
  for await (const chunk of body) {
    chunks.push(chunk);
    received += chunk.length;
    const elapsed = performance.now() - t0;
    if (received < expected && elapsed > 100) {
      const eta = ((expected - received) * elapsed) / received;
      if (performance.now() + eta > deadlineAt) {
        (body as { destroy?: () => void }).destroy?.();
        throw new Error(
          `${what}: the download would not finish in time (${received} of ${expected} bytes after ${Math.round(elapsed)} ms, ` +
            `about ${Math.round(eta)} ms to go, ${Math.round(remainingMs())} ms left in this invocation). ` +
            'Raise function.timeoutS, or use the sideload-bundled plan so deps.zip ships inside the function zip.',
        );
      }
    }
  }
  return Buffer.concat(chunks, received);
}

async function getZip(opts: SideloadOptions): Promise<Buffer> {
  const { config } = opts;
  if (config.zip) return readFile(isAbsolute(config.zip) ? config.zip : join(opts.taskRoot, config.zip));
  if (!config.s3) throw new Error('lambda-ml.runtime.json: sideload has neither "zip" nor "s3"');
  const remaining = opts.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const safety = opts.safetyMs ?? 1000;
  if (remaining() < safety) {
    throw new Error(
      `deps.zip (${config.zipBytes} bytes from ${config.s3}): only ${remaining()} ms left in this invocation, not enough to download it; raise function.timeoutS`,
    );
  }
  const { bucket, key } = parseS3Url(config.s3);
  const fetchZip = opts.fetchZip ?? ((b: string, k: string) => s3GetObject(b, k, opts.env ?? process.env));
  return readWithDeadline(
    await fetchZip(bucket, key),
    config.zipBytes,
    remaining,
    safety,
    `deps.zip from ${config.s3}`,
  );
}

/**
 * Makes the sideloaded deps available: reuses /tmp/lambda-ml/<sha256>/ when an earlier start extracted it,
 * else checks free space, gets the zip (task root or S3), verifies its sha256 and extracts it atomically.
 */
export async function ensureDeps(opts: SideloadOptions): Promise<SideloadResult> {
  const { config } = opts;
  const base = join(opts.tmpDir, 'lambda-ml');
  const final = join(base, config.sha256);
  const timings = { fetch: 0, verify: 0, extract: 0 };
  let reused = true;
  if (!(await exists(final))) {
    // The zip stays in memory (never written to /tmp), so only the unzipped tree has to fit.
    await assertTmpSpace(
      opts.tmpDir,
      config.unzippedBytes,
      `the sideloaded deps (deps.zip unzipped, ${config.files} files)`,
      opts.env,
    );
    let t0 = performance.now();
    const zip = await getZip(opts);
    timings.fetch = ms(t0);
    t0 = performance.now();
    const actual = createHash('sha256').update(zip).digest('hex');
    timings.verify = ms(t0);
    if (actual !== config.sha256) {
      throw new Error(
        `deps.zip sha256 mismatch: expected ${config.sha256}, got ${actual} (${zip.length} bytes from ${config.zip ?? config.s3}). ` +
          'The zip is not the one this function was packaged with: run `lambda-ml deploy` again.',
      );
    }
    t0 = performance.now();
    const result = await atomicDir(final, async (temp) => {
      await extractZip(zip, temp, opts.concurrency ?? 8);
    });
    timings.extract = ms(t0);
    reused = !result.created;
  }
  const cleaned = await cleanStaleTemps(base);
  const nested = join(final, 'node_modules');
  return { dir: final, nodeModules: (await exists(nested)) ? nested : final, reused, timings, cleaned };
}
