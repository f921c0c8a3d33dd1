/**
 * Model files: fetched once into /tmp (atomic, sha256-checked) or read from the task root; loaded with TF.js without
 * tfjs-node.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { RuntimeConfig } from '../types.js';
import { atomicDir } from './atomic-dir.js';
import { registerCustomLayers } from './custom-layers.js';
import type { Tf } from './backend.js';
import { assertTmpSpace } from './tmp-space.js';

export type ModelSpec = RuntimeConfig['models'][number];

/** A loaded model, ready to predict. */
export interface LoadedModel {
  readonly spec: ModelSpec;
  readonly predict: (input: import('@tensorflow/tfjs').Tensor) => import('@tensorflow/tfjs').Tensor;
  readonly dispose: () => void;
  readonly dir: string;
  readonly timings: { readonly fetch: number; readonly load: number };
}

/** Fetches one object fully (injected: the handler passes the AWS SDK client). */
export type ObjectGetter = (bucket: string, key: string) => Promise<Uint8Array>;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const ms = (t0: number) => Math.round(performance.now() - t0);

/**
 * The cache folder of a model: its name plus a hash of its files' hashes, so a new version never reuses an old folder.
 */
export function modelCacheDir(tmpDir: string, spec: ModelSpec): string {
  const id = sha256(
    Buffer.from(
      spec.files
        .map((f) => `${f.name}:${f.sha256}`)
        .sort()
        .join('\n'),
    ),
  ).slice(0, 16);
  return join(tmpDir, 'lambda-ml', 'models', `${spec.name.replace(/[^\w.-]/g, '_')}-${id}`);
}

/** Makes the model's files available locally: the bundled folder, or a /tmp copy downloaded from S3 and verified. */
export async function ensureModelFiles(
  spec: ModelSpec,
  opts: { taskRoot: string; tmpDir: string; get: ObjectGetter; env?: NodeJS.ProcessEnv },
): Promise<string> {
  if (spec.dir) return isAbsolute(spec.dir) ? spec.dir : join(opts.taskRoot, spec.dir);
  if (!spec.s3) throw new Error(`model ${spec.name}: runtime config has neither "dir" nor "s3"`);
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(spec.s3);
  if (!m) throw new Error(`model ${spec.name}: bad s3 location ${spec.s3}`);
  const [, bucket, rawPrefix] = m;
  const prefix = rawPrefix && !rawPrefix.endsWith('/') ? `${rawPrefix}/` : rawPrefix;
  const final = modelCacheDir(opts.tmpDir, spec);
  const { dir } = await atomicDir(final, async (temp) => {
    await assertTmpSpace(
      opts.tmpDir,
      spec.files.reduce((n, f) => n + f.bytes, 0),
      `model ${spec.name}`,
      opts.env,
    );
    await Promise.all(
      spec.files.map(async (file) => {
        const data = await opts.get(bucket, `${prefix}${file.name}`);
        const actual = sha256(data);
        // An empty sha256 is a model that only ever lived in S3: package could not hash it, so the size is the check.
        if (file.sha256 === '' ? data.length !== file.bytes : actual !== file.sha256) {
          const what =
            file.sha256 === ''
              ? `size mismatch (expected ${file.bytes} bytes, got ${data.length})`
              : `sha256 mismatch (expected ${file.sha256}, got ${actual})`;
          throw new Error(
            `model ${spec.name}: s3://${bucket}/${prefix}${file.name} ${what}; run \`lambda-ml deploy\` again`,
          );
        }
        await writeFile(join(temp, file.name), data);
      }),
    );
  });
  return dir;
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  trainingConfig?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
  signature?: unknown;
}

/**
 * An IOHandler that reads model.json and concatenates the shards, so tf.loadLayersModel/loadGraphModel need neither
 * fetch nor tfjs-node.
 */
export function fileIOHandler(dir: string) {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJson;
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const shards = await Promise.all(
        json.weightsManifest.flatMap((group) => group.paths).map((p) => readFile(join(dir, p))),
      );
      const all = Buffer.concat(shards);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
        signature: json.signature,
      };
    },
  };
}

/** Loads a TF.js model folder as a layers or graph model. */
export async function loadModelFromDir(tf: Tf, spec: ModelSpec, dir: string, fetchMs = 0): Promise<LoadedModel> {
  const t0 = performance.now();
  const io = fileIOHandler(dir) as unknown as import('@tensorflow/tfjs').io.IOHandler;
  if (spec.format === 'tfjs-graph') {
    const model = await tf.loadGraphModel(io);
    const predict = (x: import('@tensorflow/tfjs').Tensor) => {
      const out = model.predict(x);
      return (
        Array.isArray(out) ? out[0] : out instanceof tf.Tensor ? out : Object.values(out)[0]
      ) as import('@tensorflow/tfjs').Tensor;
    };
    return { spec, dir, predict, dispose: () => model.dispose(), timings: { fetch: fetchMs, load: ms(t0) } };
  }
  // Layers that `convert` writes where TF.js's own are wrong (e.g. LambdaMlResizing): registered before loading.
  registerCustomLayers(tf);
  const model = await tf.loadLayersModel(io);
  const predict = (x: import('@tensorflow/tfjs').Tensor) => {
    const out = model.predict(x);
    return Array.isArray(out) ? out[0] : out;
  };
  return { spec, dir, predict, dispose: () => model.dispose(), timings: { fetch: fetchMs, load: ms(t0) } };
}

/** Loaded models, kept in module scope across warm invocations (one per backend and model folder). */
const cache = new Map<string, Promise<LoadedModel>>();

/**
 * Fetches (when needed) and loads a model once per process; a failed load is forgotten so the next invocation retries.
 */
export function getModel(
  tf: Tf,
  spec: ModelSpec,
  opts: { taskRoot: string; tmpDir: string; get: ObjectGetter; env?: NodeJS.ProcessEnv },
): Promise<LoadedModel> {
  const key = `${tf.getBackend()}:${spec.name}:${spec.dir ?? modelCacheDir(opts.tmpDir, spec)}`;
  let loading = cache.get(key);
  if (!loading) {
    loading = (async () => {
      const t0 = performance.now();
      const dir = await ensureModelFiles(spec, opts);
      return loadModelFromDir(tf, spec, dir, ms(t0));
    })();
    cache.set(key, loading);
    loading.catch(() => cache.delete(key));
  }
  return loading;
}

/** Forgets every cached model (tests). */
export function clearModelCache(): void {
  cache.clear();
}
