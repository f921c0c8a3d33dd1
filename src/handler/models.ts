/**
 * Model files: fetched once into /tmp (atomic, sha256-checked) or read from the task root; loaded with TF.js without
 * tfjs-node, or (format onnx) as an ONNX Runtime session (onnx-session.ts).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { joinKey, splitS3Url } from '../lib/s3-url.js';
import { sha256Hex } from '../lib/sha256.js';
import type { RuntimeConfig } from '../types.js';
import { atomicDir, cleanStaleTemps } from './atomic-dir.js';
import { registerCustomLayers } from './custom-layers.js';
import type { Tf } from './backend.js';
import { createOnnxModel, ONNX_FILE, type OnnxModel, type OrtModule } from './onnx-session.js';
import { assertTmpSpace, isNoSpace, tmpSpaceError } from './tmp-space.js';

export type ModelSpec = RuntimeConfig['models'][number];

/** A loaded model, ready to predict: on TF.js (`predict`) or on ONNX Runtime (`onnx`). */
export interface LoadedModel {
  readonly spec: ModelSpec;
  /** What runs it: "onnx", or the TF.js backend that was active when it loaded ("wasm", "cpu", "tensorflow"). */
  readonly backend: string;
  /** TF.js models: the layers or graph model's predict. */
  readonly predict?: (input: import('@tensorflow/tfjs').Tensor) => import('@tensorflow/tfjs').Tensor;
  /** ONNX models: the session. */
  readonly onnx?: OnnxModel;
  readonly dispose: () => void;
  readonly dir: string;
  /** ms; fetchStart/fetchEnd are ms since the process started (the cold-start log's clock), when it was fetched. */
  readonly timings: {
    readonly fetch: number;
    readonly load: number;
    readonly fetchStart?: number;
    readonly fetchEnd?: number;
  };
}

/** A model loaded on TF.js: predict is always there. */
export interface TfjsLoadedModel extends LoadedModel {
  readonly predict: NonNullable<LoadedModel['predict']>;
}

/**
 * A model's files once fetched: their folder (the /tmp cache or the task root) and, when they were downloaded by
 * this start, their bytes, so a TF.js model loads from memory instead of reading back what was just written. An
 * ONNX model keeps no bytes: ONNX Runtime reads the file itself, and handing it the downloaded buffer instead held
 * both copies at once (ResNet50-class, 97 MiB of weights: peak 433 MiB from a buffer, 344 MiB from the path).
 */
export interface ModelFiles {
  readonly dir: string;
  readonly bytes: ReadonlyMap<string, Buffer> | null;
  readonly downloaded: boolean; // fetched from S3 by this start (else bundled, or cached in /tmp by an earlier one)
  readonly fetchMs: number;
  readonly startedAt: number; // ms since the process started
  readonly endedAt: number;
}

/** Fetches one object fully (injected: the handler passes the AWS SDK client). */
export type ObjectGetter = (bucket: string, key: string) => Promise<Uint8Array>;

const ms = (t0: number) => Math.round(performance.now() - t0);

/**
 * The cache folder of a model: its name plus a hash of its files' hashes, so a new version never reuses an old folder.
 */
export function modelCacheDir(tmpDir: string, spec: ModelSpec): string {
  const id = sha256Hex(
    Buffer.from(
      spec.files
        .map((f) => `${f.name}:${f.sha256}`)
        .sort()
        .join('\n'),
    ),
  ).slice(0, 16);
  return join(tmpDir, 'lambda-ml', 'models', `${spec.name.replace(/[^\w.-]/g, '_')}-${id}`);
}

/** What fetching a model needs. */
export interface ModelFetchOptions {
  readonly taskRoot: string;
  readonly tmpDir: string;
  readonly get: ObjectGetter;
  /** Streams an object: an ONNX model then goes to /tmp as it arrives (with `get`, it was whole in memory first). */
  readonly getStream?: (bucket: string, key: string) => Promise<AsyncIterable<Uint8Array>>;
  readonly env?: NodeJS.ProcessEnv;
}

/** Makes the model's files available locally: the bundled folder, or a /tmp copy downloaded from S3 and verified. */
export async function ensureModelFiles(spec: ModelSpec, opts: ModelFetchOptions): Promise<string> {
  return (await fetchModelFiles(spec, opts)).dir;
}

/**
 * The model's files: the bundled folder as it is, else downloaded from S3 (every file's sha256 checked), kept in
 * /tmp (atomically) for later starts of this environment and returned in memory for this one.
 */
export async function fetchModelFiles(spec: ModelSpec, opts: ModelFetchOptions): Promise<ModelFiles> {
  const startedAt = Math.round(performance.now());
  const done = (dir: string, bytes: ReadonlyMap<string, Buffer> | null, downloaded = false): ModelFiles => {
    const endedAt = Math.round(performance.now());
    return { dir, bytes, downloaded, fetchMs: endedAt - startedAt, startedAt, endedAt };
  };
  const keepBytes = !isOnnxSpec(spec);
  if (spec.dir) return done(isAbsolute(spec.dir) ? spec.dir : join(opts.taskRoot, spec.dir), null);
  if (!spec.s3) throw new Error(`model ${spec.name}: runtime config has neither "dir" nor "s3"`);
  const location = splitS3Url(spec.s3);
  if (!location) throw new Error(`model ${spec.name}: bad s3 location ${spec.s3}`);
  const { bucket, key: prefix } = location;
  const final = modelCacheDir(opts.tmpDir, spec);
  // What killed starts left first, before the space check (docs/handler.md, "Cold start").
  await cleanStaleTemps(dirname(final));
  const need = spec.files.reduce((n, f) => n + Math.ceil(f.bytes / 4096) * 4096, 0);
  const what = `model ${spec.name}`;
  const bytes = new Map<string, Buffer>();
  const fill = async (temp: string) => {
    await assertTmpSpace(opts.tmpDir, need, what, opts.env);
    await Promise.all(
      spec.files.map(async (file) => {
        const key = joinKey(prefix, file.name);
        if (!keepBytes && opts.getStream) {
          const label = `model ${spec.name}: s3://${bucket}/${key}`;
          await streamToFile(await opts.getStream(bucket, key), join(temp, file.name), file, label);
          return;
        }
        const data = await opts.get(bucket, key);
        checkFetched(file, data.length, sha256Hex(data), `model ${spec.name}: s3://${bucket}/${key}`);
        await writeFile(join(temp, file.name), data);
        if (keepBytes) bytes.set(file.name, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      }),
    );
  };
  try {
    const { dir, created } = await atomicDir(final, fill);
    return done(dir, created && keepBytes ? bytes : null, created);
  } catch (error) {
    if (isNoSpace(error)) throw await tmpSpaceError(opts.tmpDir, need, what, opts.env, error);
    throw error;
  }
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

/** The bytes of `data` as an ArrayBuffer of their own: the Buffer's, when it spans it whole (big reads do). */
const ownArrayBuffer = (data: Buffer): ArrayBuffer =>
  data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
    ? data.buffer
    : new Uint8Array(data).buffer;

/**
 * An IOHandler that reads model.json and hands TF.js the shards (ArrayBuffer[]), so tf.loadLayersModel/loadGraphModel
 * need neither fetch nor tfjs-node.
 */

export function fileIOHandler(dir: string, bytes: ReadonlyMap<string, Buffer> | null = null) {
  // Files downloaded by this start are loaded from memory; the others are read from the folder.
  const read = async (name: string) => bytes?.get(name) ?? readFile(join(dir, name));
  return {
    load: async () => {
      const json = JSON.parse((await read('model.json')).toString('utf8')) as ModelJson;
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((p) => read(p)));
      // The shards as they are (TF.js reads an ArrayBuffer[] through its CompositeArrayBuffer): concatenating them
      // and slicing the result held two more copies of the weights at once (the ResNet50-class model: 2 x 98 MiB).
      const weightData = shards.map(ownArrayBuffer);
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

/** Loads a TF.js model folder (or the files fetched from it) as a layers or graph model. */
export async function loadModelFromDir(
  tf: Tf,
  spec: ModelSpec,
  dir: string,
  fetchMs = 0,
  files: ModelFiles | null = null,
): Promise<TfjsLoadedModel> {
  const t0 = performance.now();
  const io = fileIOHandler(dir, files?.bytes ?? null) as unknown as import('@tensorflow/tfjs').io.IOHandler;
  const timings = () => ({
    fetch: fetchMs,
    load: ms(t0),
    ...(files ? { fetchStart: files.startedAt, fetchEnd: files.endedAt } : {}),
  });
  if (spec.format === 'tfjs-graph') {
    const model = await tf.loadGraphModel(io);
    const predict = (x: import('@tensorflow/tfjs').Tensor) => {
      const out = model.predict(x);
      return (
        Array.isArray(out) ? out[0] : out instanceof tf.Tensor ? out : Object.values(out)[0]
      ) as import('@tensorflow/tfjs').Tensor;
    };
    return { spec, dir, backend: tf.getBackend(), predict, dispose: () => model.dispose(), timings: timings() };
  }
  // Layers that `convert` writes where TF.js's own are wrong (e.g. LambdaMlResizing): registered before loading.
  registerCustomLayers(tf);
  const model = await tf.loadLayersModel(io);
  const predict = (x: import('@tensorflow/tfjs').Tensor) => {
    const out = model.predict(x);
    return Array.isArray(out) ? out[0] : out;
  };
  return { spec, dir, backend: tf.getBackend(), predict, dispose: () => model.dispose(), timings: timings() };
}

/** How ONNX models load: the runtime (imported on first use) and the session's intra-op threads. */
export interface OnnxOptions {
  readonly ort: () => Promise<OrtModule>;
  readonly threads: number;
}

/** True when a runtime-config model runs on ONNX Runtime. */
export const isOnnxSpec = (spec: ModelSpec) => spec.format === 'onnx' || spec.backend === 'onnx';

/** Creates the model's ONNX Runtime session from its file (bundled, or in the /tmp cache: see ModelFiles). */
export async function loadOnnxFromDir(spec: ModelSpec, files: ModelFiles, options: OnnxOptions): Promise<LoadedModel> {
  const t0 = performance.now();
  const ort = await options.ort();
  const onnx = await createOnnxModel(ort, join(files.dir, ONNX_FILE), options.threads);
  const timings = {
    fetch: files.fetchMs,
    load: ms(t0),
    ...(files.downloaded ? { fetchStart: files.startedAt, fetchEnd: files.endedAt } : {}),
  };
  return {
    spec,
    dir: files.dir,
    backend: 'onnx',
    onnx,
    dispose: () => void onnx.release().catch(() => undefined),
    timings,
  };
}

/**
 * Writes one model file as it arrives, hashing it on the way: checked against the runtime config (sha256, or the size
 * when package could not hash it) before the folder is renamed into place (atomicDir).
 */
async function streamToFile(
  body: AsyncIterable<Uint8Array>,
  path: string,
  file: ModelSpec['files'][number],
  label: string, // "model NAME: s3://bucket/key", as the other fetch errors say it
): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    body,
    async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > file.bytes) throw new Error(`${label}: more than the ${file.bytes} bytes it was packaged with`);
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(path, { flags: 'wx' }),
  );
  checkFetched(file, size, hash.digest('hex'), label);
}

/**
 * A fetched model file against the runtime config. An empty sha256 is a model that only ever lived in S3: package
 * could not hash it, so the size is the check.
 */
function checkFetched(file: ModelSpec['files'][number], size: number, actual: string, label: string): void {
  if (file.sha256 === '' ? size === file.bytes : actual === file.sha256) return;
  const what =
    file.sha256 === ''
      ? `size mismatch (expected ${file.bytes} bytes, got ${size})`
      : `sha256 mismatch (expected ${file.sha256}, got ${actual})`;
  throw new Error(`${label} ${what}; run \`lambda-ml deploy\` again`);
}

/** Loaded models, kept in module scope across warm invocations (one per backend and model folder). */
const cache = new Map<string, Promise<LoadedModel>>();

/**
 * Fetches (when needed) and loads a model once per process; a failed load is forgotten so the next invocation retries.
 */
export function getModel(
  tf: Tf,
  spec: ModelSpec,
  opts: ModelFetchOptions & { readonly prefetched?: Promise<ModelFiles>; readonly onnx?: OnnxOptions },
): Promise<LoadedModel> {
  const onnx = isOnnxSpec(spec);
  const key = `${onnx ? 'onnx' : tf.getBackend()}:${spec.name}:${spec.dir ?? modelCacheDir(opts.tmpDir, spec)}`;
  let loading = cache.get(key);
  if (!loading) {
    loading = (async () => {
      // Started at the beginning of the cold start (startModelFetches), or now.
      const files = await (opts.prefetched ?? fetchModelFiles(spec, opts));
      if (!onnx) return loadModelFromDir(tf, spec, files.dir, files.fetchMs, files);
      if (!opts.onnx) throw new Error(`model ${spec.name} runs on onnx, but the handler was given no ONNX Runtime`);
      return loadOnnxFromDir(spec, files, opts.onnx);
    })();
    cache.set(key, loading);
    loading.catch(() => cache.delete(key));
  }
  return loading;
}

/**
 * Starts fetching every model from S3 at once, at the beginning of the cold start, so the downloads overlap the
 * deps extraction and the backend's start (docs/handler.md, "Cold start"). A fetch that fails rejects only when
 * its model is loaded, and that load's retry fetches again.
 */
export function startModelFetches(
  specs: readonly ModelSpec[],
  opts: ModelFetchOptions,
): Map<string, Promise<ModelFiles>> {
  const fetches = new Map<string, Promise<ModelFiles>>();
  for (const spec of specs) {
    const fetching = fetchModelFiles(spec, opts);
    fetching.catch(() => undefined); // not an unhandled rejection: getModel awaits it
    fetches.set(spec.name, fetching);
  }
  return fetches;
}

/** Forgets every cached model (tests). */
export function clearModelCache(): void {
  cache.clear();
}
