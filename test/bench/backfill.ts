/**
 * Benchmark: `lambda-ml backfill --local` (the packaged Node example, the real classifier) on the same 200 generated
 * images on s3rver at concurrency 1, 2 and 4: images per second and the ratio to concurrency 1 (the scaling figure;
 * target ≥ 1.7× at 2 on a 2-core machine); then the time per image the cost model uses, the warm p50 of
 * `invoke --local --repeat`, which writes `<out>/invoke-timing.json` (docs/backfill.md, "What it costs").
 * `backfillImages` is also the end-to-end test's object set (test/integration/backfill-local-e2e.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { ensureNodeExample, NODE_EXAMPLE } from '../../src/example/node-example.js';
import { AWS_TEST_ENV } from '../helpers/cli-procs.js';
import { startS3 } from '../helpers/s3rver.js';
import { BIN, fmtMs } from './util.js';

const run = promisify(execFile);
export const FORMATS = ['jpeg', 'png', 'webp', 'gif'] as const;
export type Format = (typeof FORMATS)[number];
export const EXTENSION: Record<Format, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif' };

/** A seeded image: smooth gradients and noise, `width`×`height`, in `format`. */
export async function generatedImage(seed: number, format: Format, width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let x = (seed * 2654435761) >>> 0;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const o = (y * width + i) * 3;
      raw[o] = (i * 255) / width;
      raw[o + 1] = (y * 255) / height;
      raw[o + 2] = x >>> 24;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

/** `count` images (the 4 formats in turn, sizes from 24×16 to 160×120) as { key, body }, plus the bad files. */
export async function backfillImages(
  count = 200,
  prefix = 'photos/',
): Promise<{
  images: { key: string; body: Buffer }[];
  bad: { key: string; body: Buffer; reason: RegExp }[];
}> {
  const sizes = [
    [24, 16],
    [64, 48],
    [96, 96],
    [160, 120],
    [48, 120],
  ] as const;
  const images = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const format = FORMATS[i % FORMATS.length];
      const [w, h] = sizes[i % sizes.length];
      const key = `${prefix}${String(i).padStart(3, '0')} img-${w}x${h}.${EXTENSION[format]}`;
      return { key, body: await generatedImage(i + 1, format, w, h) };
    }),
  );
  const jpeg = await generatedImage(9999, 'jpeg', 160, 120);
  const bad = [
    { key: `${prefix}notes.jpg`, body: Buffer.from('meeting notes, not a photo\n'), reason: /not-an-image/ },
    { key: `${prefix}truncated.jpg`, body: jpeg.subarray(0, Math.floor(jpeg.length / 2)), reason: /truncated|decode/ },
  ];
  return { images, bad };
}

/** Creates `bucket` and uploads the objects, 16 at a time. */
export async function uploadObjects(
  client: S3Client,
  bucket: string,
  objects: readonly { key: string; body: Buffer }[],
) {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const put = (o: { key: string; body: Buffer }) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body }));
  for (let i = 0; i < objects.length; i += 16) await Promise.all(objects.slice(i, i + 16).map(put));
}

/** `lambda-ml package` of the Node example into `out`. */
export async function packageExample(out: string): Promise<void> {
  await ensureNodeExample();
  const env = { ...process.env, NO_COLOR: '1' };
  await run(process.execPath, [BIN, 'package', '--out', out, '--json'], { cwd: NODE_EXAMPLE, env });
}

export interface LocalRun {
  readonly exitCode: number;
  readonly json: {
    counts: { succeeded: number; failed: number; retries: number };
    elapsedMs: number;
    report: string;
    failures: { errorCode: string; reason: string; count: number }[];
  };
  readonly stderr: string;
}

/** `lambda-ml backfill s3://bucket/prefix --local --json` against `endpoint`. */
export async function backfillLocal(options: {
  out: string;
  bucket: string;
  prefix: string;
  endpoint: string;
  concurrency: number;
  extra?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<LocalRun> {
  const args = [
    BIN,
    'backfill',
    `s3://${options.bucket}/${options.prefix}`,
    '--local',
    '--concurrency',
    String(options.concurrency),
    '--endpoint',
    options.endpoint,
    '--out',
    options.out,
    '--json',
    // every format generated (the example's trigger.suffixes leave .gif out)
    ...Object.values(EXTENSION).flatMap((ext) => ['--suffix', `.${ext}`]),
    ...(options.extra ?? []),
  ];
  const env = { ...process.env, ...AWS_TEST_ENV, NO_COLOR: '1', ...options.env };
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: NODE_EXAMPLE, env, maxBuffer: 1 << 26 });
    return { exitCode: 0, json: JSON.parse(stdout), stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number' || !e.stdout?.trim().startsWith('{')) throw error;
    return { exitCode: e.code, json: JSON.parse(e.stdout), stderr: e.stderr ?? '' };
  }
}

export async function runBackfillBench(): Promise<{ lines: string[]; figures: Record<string, number> }> {
  const work = await mkdtemp(join(tmpdir(), 'lambda-ml-bench-backfill-'));
  const s3 = await startS3();
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  try {
    const out = join(work, 'out');
    await packageExample(out);
    const bucket = 'bench-backfill';
    const { images } = await backfillImages(200);
    await uploadObjects(s3.client, bucket, images);
    const rates: Record<number, number> = {};
    for (const concurrency of [1, 2, 4]) {
      // --force: every run classifies and tags all 200 (else the second run finds them current).
      const r = await backfillLocal({
        out,
        bucket,
        prefix: 'photos/',
        endpoint: s3.endpoint,
        concurrency,
        extra: ['--force'],
      });
      if (r.exitCode !== 0 || r.json.counts.succeeded !== images.length) {
        throw new Error(`concurrency ${concurrency}: ${JSON.stringify(r.json.counts)} ${r.stderr.slice(0, 500)}`);
      }
      rates[concurrency] = images.length / (r.json.elapsedMs / 1000);
      figures[`c${concurrency}`] = rates[concurrency];
      const ratio = rates[concurrency] / rates[1];
      const target = concurrency === 2 ? ' (target >= 1.7x)' : '';
      lines.push(
        `backfill --local c=${concurrency}: ${images.length} images in ${fmtMs(r.json.elapsedMs)} = ` +
          `${rates[concurrency].toFixed(1)} images/s, ${ratio.toFixed(2)}x c=1${target}`,
      );
    }
    // The time per image the cost model uses: warm p50 of invoke --local --repeat on one of the same images.
    const env = { ...process.env, ...AWS_TEST_ENV, NO_COLOR: '1' };
    await run(
      process.execPath,
      [
        BIN,
        'invoke',
        '--local',
        '--s3',
        `s3://${bucket}/${images[1].key}`,
        '--endpoint',
        s3.endpoint,
        '--repeat',
        '21',
        '--out',
        out,
        '--json',
      ],
      { cwd: NODE_EXAMPLE, env, maxBuffer: 1 << 26 },
    );
    type Timing = { warm: { p50Ms: number; p95Ms: number; count: number }; memoryMb: number };
    const timing = JSON.parse(await readFile(join(out, 'invoke-timing.json'), 'utf8')) as Timing;
    figures.p50Ms = timing.warm.p50Ms;
    lines.push(
      `backfill time per image: invoke --local --repeat 21 warm p50 ${fmtMs(timing.warm.p50Ms)}, ` +
        `p95 ${fmtMs(timing.warm.p95Ms)} (${timing.warm.count} warm; ${images[1].key}, ` +
        `${availableParallelism()} cores); ` +
        `the cost model scales it to ${timing.memoryMb} MB`,
    );
    return { lines, figures };
  } finally {
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of (await runBackfillBench()).lines) console.log(line);
}
