/** Measures a model that lives in S3: one object (HeadObject) or a TF.js folder (ListObjectsV2 + model.json). */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ModelFormat } from '../types.js';
import { toRemoteError } from './remote-error.js';
import { awsError } from '../lib/errors.js';
import { checkShardSizes } from '../lib/weight-shards.js';
import { joinKey, parseS3Url } from '../lib/s3-url.js';

/** What a model in S3 weighs: download bytes and memory once loaded (weights as float32). */
export interface RemoteModel {
  readonly url: string;
  readonly format: ModelFormat;
  readonly bytes: number;
  readonly memoryBytes: number;
  readonly memoryIsEstimate: boolean; // true for Keras files: memory taken as their size
  readonly quantization: 'uint8' | 'uint16' | 'float16' | null;
  readonly files: readonly { readonly path: string; readonly bytes: number }[];
  readonly missing: readonly string[]; // shards model.json names that are not in S3
}

interface WeightsManifest {
  readonly paths?: readonly string[];
  readonly weights?: readonly {
    readonly shape?: readonly number[];
    readonly quantization?: { readonly dtype?: string };
  }[];
}

/** Bytes the weights take once loaded: TF.js dequantizes to float32, so every element is 4 bytes. */
export function weightsMemoryBytes(manifest: readonly WeightsManifest[]): number {
  let total = 0;
  for (const group of manifest) {
    for (const weight of group.weights ?? []) total += (weight.shape ?? []).reduce((a, b) => a * b, 1) * 4;
  }
  return total;
}

function quantizationOf(manifest: readonly WeightsManifest[]): RemoteModel['quantization'] {
  for (const group of manifest) {
    for (const weight of group.weights ?? []) {
      const dtype = weight.quantization?.dtype;
      if (dtype === 'uint8' || dtype === 'uint16' || dtype === 'float16') return dtype;
    }
  }
  return null;
}

/** `s3://bucket/key` (a file) or `s3://bucket/prefix/` (a TF.js folder). */
export async function measureS3Model(s3: S3Client, url: string): Promise<RemoteModel> {
  const { bucket, key } = parseS3Url(url);
  if (key === '' || key.endsWith('/')) return measureFolder(s3, url, bucket, key);
  let size: number;
  try {
    size = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0;
  } catch (error) {
    throw toRemoteError(error, `HeadObject ${url}`);
  }
  if (key.endsWith('.json')) {
    const folder = key.slice(0, key.lastIndexOf('/') + 1);
    return measureFolder(s3, url, bucket, folder, key.slice(folder.length));
  }
  const format: ModelFormat = key.endsWith('.keras') ? 'keras-v3' : 'keras-h5';
  return {
    url,
    format,
    bytes: size,
    memoryBytes: size,
    memoryIsEstimate: true,
    quantization: null,
    files: [{ path: key, bytes: size }],
    missing: [],
  };
}

async function measureFolder(
  s3: S3Client,
  url: string,
  bucket: string,
  prefix: string,
  modelFile = 'model.json',
): Promise<RemoteModel> {
  const listed = new Map<string, number>();
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? [])
        if (object.Key) listed.set(object.Key.slice(prefix.length), object.Size ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw toRemoteError(error, `ListObjectsV2 ${url}`);
  }
  if (!listed.has(modelFile))
    throw awsError(
      `${url}: no ${modelFile} there (${listed.size} objects under the prefix)`,
      'point models[].s3 at the folder that holds a TF.js model.json and its weight shards',
    );
  let model: { format?: string; weightsManifest?: WeightsManifest[] };
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: joinKey(prefix, modelFile) }));
    model = JSON.parse(await object.Body!.transformToString('utf8'));
  } catch (error) {
    if (error instanceof SyntaxError)
      throw awsError(`${url}${modelFile}: not valid JSON`, 'upload the model.json that tfjs-converter wrote', error);
    throw toRemoteError(error, `GetObject ${url}${modelFile}`);
  }
  const manifest = model.weightsManifest ?? [];
  const shards = manifest.flatMap((group) => group.paths ?? []);
  const names = [modelFile, ...shards];
  const files = names
    .filter((name) => listed.has(name))
    .map((name) => ({ path: joinKey(prefix, name), bytes: listed.get(name) ?? 0 }));
  for (const group of manifest) {
    const paths = group.paths ?? [];
    const sizes = paths.map((name) => listed.get(name));
    if (sizes.every((size) => size !== undefined)) checkShardSizes(`model ${url}`, group, sizes as number[]);
  }
  return {
    url,
    format: model.format === 'graph-model' ? 'tfjs-graph' : 'tfjs-layers',
    bytes: files.reduce((a, f) => a + f.bytes, 0),
    memoryBytes: weightsMemoryBytes(manifest),
    memoryIsEstimate: false,
    quantization: quantizationOf(manifest),
    files,
    missing: shards.filter((name) => !listed.has(name)),
  };
}
