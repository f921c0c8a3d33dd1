/** Shared set-up for the handler tests: real models (unpacked from npm nsfwjs), real deps, runtime configs. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeConfig } from '../../src/types.js';
import { nsfwjsLabels, unpackNsfwjsModel, type NsfwjsVariant } from '../../src/example/nsfwjs-model.js';
import { requireFrom, type RequireFrom } from '../../src/handler/require-from.js';
import type { Tf } from '../../src/handler/backend.js';
import type { Sharp } from '../../src/handler/image.js';
import type { S3Module } from '../../src/handler/s3.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = resolve(PROJECT_ROOT, '..', 'shared', 'fixtures');
export const hasFixtures = () => existsSync(join(FIXTURES, 'MANIFEST.md'));
export const SKIP_FIXTURES = `${FIXTURES} absent: the shared photos and models are needed`;
/** A fixture photo, read from ../shared/fixtures/images. */
export const photo = (name: string) => readFileSync(join(FIXTURES, 'images', name));

export type ModelSpec = RuntimeConfig['models'][number];

/** The real deps, loaded the way the handler loads them (one tfjs instance for everyone). */
export function loadDeps(): { req: RequireFrom; tf: Tf; sharp: Sharp; sdk: S3Module } {
  const req = requireFrom([join(PROJECT_ROOT, 'node_modules')]);
  return { req, tf: req<Tf>('@tensorflow/tfjs'), sharp: req<Sharp>('sharp'), sdk: req<S3Module>('@aws-sdk/client-s3') };
}

/** The nsfwjs model, unpacked once per machine into the OS temp folder. */
export async function nsfwModelDir(variant: NsfwjsVariant = 'mobilenet_v2'): Promise<string> {
  return (await unpackNsfwjsModel(join(tmpdir(), 'lambda-ml-test-models', variant), variant)).dir;
}

/** A model entry of the runtime config for a TF.js folder, with each file's size and sha256. */
export function modelSpec(dir: string, over: Partial<ModelSpec> = {}): ModelSpec {
  const files = readdirSync(dir)
    .filter((f) => f === 'model.json' || f.endsWith('.bin'))
    .sort()
    .map((name) => {
      const data = readFileSync(join(dir, name));
      return { name, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    });
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { format?: string };
  return {
    name: 'nsfw',
    tag: 'nsfw',
    format: json.format === 'graph-model' ? 'tfjs-graph' : 'tfjs-layers',
    dir,
    s3: null,
    files,
    labels: nsfwjsLabels(),
    input: { width: 224, height: 224, range: [0, 1] },
    topK: 3,
    threshold: 0,
    ...over,
  };
}

/** A runtime config for the bundle strategy, with the given models. */
export function runtimeConfig(models: ModelSpec[], over: Partial<RuntimeConfig> = {}): RuntimeConfig {
  return {
    version: 1,
    strategy: 'bundle',
    sideload: null,
    layerNodeModules: [],
    backend: 'wasm',
    models,
    colors: { count: 3 },
    tags: { prefix: 'ml:' },
    results: null,
    maxImageBytes: 20 * 1024 * 1024,
    ...over,
  };
}

/** An S3 notification event, keys URL-encoded the way S3 sends them (`+` for spaces). */
export function s3Event(records: { bucket: string; key: string; eventName?: string }[]) {
  return {
    Records: records.map((r) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: r.eventName ?? 'ObjectCreated:Put',
      awsRegion: 'us-east-1',
      s3: {
        bucket: { name: r.bucket, arn: `arn:aws:s3:::${r.bucket}` },
        object: { key: encodeURIComponent(r.key).replace(/%20/g, '+').replace(/%2F/g, '/'), size: 1 },
      },
    })),
  };
}

/** A fake Lambda context. */
export const context = (ms = 60_000) => {
  const end = Date.now() + ms;
  return { awsRequestId: 'test', getRemainingTimeInMillis: () => end - Date.now() };
};
