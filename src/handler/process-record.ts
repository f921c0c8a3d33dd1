/** One object: head, download, decode, classify with every model, colours, tags merged, optional JSON sidecar. */
import { joinKey, splitS3Url } from '../lib/s3-url.js';
import type { RuntimeConfig } from '../types.js';
import type { Tf } from './backend.js';
import { classify, type Prediction } from './classify.js';
import { dominantColors, type DominantColor } from './colors.js';
import type { ObjectRef } from './event.js';
import { decodeImage, SkipError, toModelInput, type Sharp } from './image.js';
import { preprocessKey } from './preprocess.js';
import type { LoadedModel } from './models.js';
import { isNotFound, isTransient, type S3Ops } from './s3.js';
import { buildTags, holdsCurrentResults, mergeTags, type Tag } from './tags.js';

/** Everything a record needs, created once per cold start. */
export interface RecordDeps {
  readonly config: RuntimeConfig;
  readonly tf: Tf;
  readonly sharp: Sharp;
  readonly s3: S3Ops;
  readonly models: readonly LoadedModel[];
  /** modelsHash() of the models: written as the `<prefix>models` tag beside the results (docs/handler.md). */
  readonly modelsHash?: string;
  /** Batch Operations with reclassify 'stale': an object whose tags already hold these models' results is skipped. */
  readonly skipCurrent?: boolean;
}

/** The outcome of one record; it is also the record's log line. */
export interface RecordResult {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;
  status: 'tagged' | 'skipped' | 'failed';
  reason?: string;
  message?: string;
  transient?: boolean;
  format?: string;
  bytes?: number;
  width?: number;
  height?: number;
  predictions?: Record<string, Prediction[]>;
  colors?: DominantColor[];
  tags?: Tag[];
  dropped?: string[];
  results?: string;
  timings: {
    head?: number;
    download?: number;
    decode?: number;
    infer?: Record<string, number>;
    colors?: number;
    tag?: number;
    results?: number;
    total?: number;
  };
}

const since = (t0: number) => Math.round(performance.now() - t0);

/** `s3://bucket/prefix/` + `<bucket>/<key>.json`. */
export function sidecarLocation(results: string, bucket: string, key: string): { bucket: string; key: string } {
  const location = splitS3Url(results);
  if (!location) throw new Error(`bad results location ${results} (expected s3://bucket/prefix/)`);
  return { bucket: location.bucket, key: joinKey(location.key, `${bucket}/${key}.json`) };
}

async function run(ref: ObjectRef, deps: RecordDeps, r: RecordResult): Promise<void> {
  const { config, s3 } = deps;
  let t = performance.now();
  // Already current (same models tag): done after one GetObjectTagging, without a GET or a PutObjectTagging.
  const early = deps.skipCurrent && deps.modelsHash ? await s3.getTags(ref.bucket, ref.key, ref.versionId) : null;
  if (early && holdsCurrentResults(early, config.tags.prefix, deps.modelsHash!)) {
    throw new SkipError('current', `the tags already hold the results of models ${deps.modelsHash}`);
  }
  // A HEAD 404 has no body, so it cannot tell a missing key (skip) from a missing bucket (fail): GetObject says which.
  const head = await s3.head(ref.bucket, ref.key, ref.versionId).catch((error: { name?: string }) => {
    if (error?.name === 'NotFound') return null;
    throw error;
  });
  r.timings.head = since(t);
  r.bytes = head?.size;
  if (head && head.size > config.maxImageBytes)
    throw new SkipError('too-large', `${head.size} bytes is over maxImageBytes (${config.maxImageBytes})`);
  t = performance.now();
  const body = await s3.get(ref.bucket, ref.key, ref.versionId);
  r.bytes = body.length;
  if (body.length > config.maxImageBytes)
    throw new SkipError('too-large', `${body.length} bytes is over maxImageBytes (${config.maxImageBytes})`);
  r.timings.download = since(t);
  t = performance.now();
  const image = await decodeImage(deps.sharp, body);
  Object.assign(r, { format: image.format, width: image.width, height: image.height });
  const inputs = new Map<string, Promise<Float32Array>>();
  r.predictions = {};
  r.timings.infer = {};
  let decodeMs = since(t);
  for (const model of deps.models) {
    const id = preprocessKey(model.spec.input);
    t = performance.now();
    if (!inputs.has(id)) inputs.set(id, toModelInput(image, model.spec.input));
    const input = await inputs.get(id)!;
    decodeMs += since(t);
    t = performance.now();
    r.predictions[model.spec.name] = await classify(deps.tf, model, input);
    r.timings.infer[model.spec.name] = since(t);
  }
  r.timings.decode = decodeMs;
  t = performance.now();
  r.colors = dominantColors(image.thumbnail.data, image.thumbnail.channels, config.colors.count);
  r.timings.colors = since(t);
  t = performance.now();
  const ours = buildTags(
    deps.models.map((m) => ({ tag: m.spec.tag, top: r.predictions![m.spec.name] })),
    r.colors.map((c) => c.name),
    config.tags.prefix,
    deps.modelsHash,
  );
  const existing = early ?? (await s3.getTags(ref.bucket, ref.key, ref.versionId));
  const merged = mergeTags(existing, ours, config.tags.prefix);
  await s3.putTags(ref.bucket, ref.key, ref.versionId, merged.tags);
  r.tags = merged.tags;
  r.dropped = merged.dropped.map((d) => d.Key);
  r.timings.tag = since(t);
  if (config.results) {
    t = performance.now();
    const where = sidecarLocation(config.results, ref.bucket, ref.key);
    const doc = {
      bucket: ref.bucket,
      key: ref.key,
      versionId: ref.versionId,
      format: r.format,
      width: r.width,
      height: r.height,
      predictions: r.predictions,
      colors: r.colors,
      tags: merged.tags,
      dropped: merged.dropped,
    };
    await s3.putResult(where.bucket, where.key, `${JSON.stringify(doc, null, 2)}\n`);
    r.results = `s3://${where.bucket}/${where.key}`;
    r.timings.results = since(t);
  }
  r.status = 'tagged';
}

/**
 * Processes one object. Never throws: bad images are `skipped`, S3 failures `failed` (with `transient` set for
 * retryable ones).
 */
export async function processRecord(ref: ObjectRef, deps: RecordDeps): Promise<RecordResult> {
  const t0 = performance.now();
  const r: RecordResult = { bucket: ref.bucket, key: ref.key, versionId: ref.versionId, status: 'failed', timings: {} };
  try {
    await run(ref, deps, r);
  } catch (error) {
    if (error instanceof SkipError)
      Object.assign(r, { status: 'skipped', reason: error.reason, message: error.message });
    else if (isNotFound(error))
      Object.assign(r, { status: 'skipped', reason: 'not-found', message: 'the object no longer exists' });
    else {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      Object.assign(r, {
        status: 'failed',
        reason: e.name || 'Error',
        message: e.message,
        transient: isTransient(error),
      });
    }
  }
  r.timings.total = since(t0);
  return r;
}
