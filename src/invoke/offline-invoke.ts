/**
 * `invoke --local --s3-local --image FILE...`: the handler tried with no S3 server and no credentials of the user's
 * (docs/design.md, "invoke --local"). A local s3rver gets the staged models (and deps.zip), the images go into the
 * trigger bucket and prefix, the handler runs on an S3 put event for them, and the tags they got are read back.
 * The server and its folder are removed whatever happens.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { awsError, fsError, inputError, LambdaMlError } from '../lib/errors.js';
import type { Manifest } from '../types.js';
import { s3PutEventFor } from './events.js';
import { invokeLocal, type LocalInvokeOptions, type LocalInvokeReport } from './local-invoke.js';
import { localS3Env, startLocalS3 } from './s3-local.js';
import { stageToEndpoint } from './stage-local.js';

/** An image file given with --image. */
export interface LocalImage {
  readonly file: string; // as given
  readonly path: string; // absolute
  readonly bytes: number;
}

/** Where an image was put and the tags it has after the invocation. */
export interface OfflineImage {
  readonly file: string;
  readonly bucket: string;
  readonly key: string;
  readonly tags: Record<string, string>;
}

export interface OfflineInvokeResult {
  readonly report: LocalInvokeReport;
  readonly endpoint: string;
  readonly staged: readonly string[];
  readonly images: readonly OfflineImage[];
}

/** The bucket for images when the config has no trigger. */
export const LOCAL_BUCKET = 'local';

/** Checks every --image is a readable file, before anything starts; exit 2 naming the first that is not. */
export async function checkImages(files: readonly string[], cwd: string): Promise<LocalImage[]> {
  const images: LocalImage[] = [];
  for (const file of files) {
    if (file.trim() === '') throw inputError('--image needs a file name', 'e.g. --image photos/cat.jpg');
    const path = resolve(cwd, file);
    const info = await stat(path).catch((error) => {
      throw imageError(file, error);
    });
    if (!info.isFile()) {
      const what = info.isDirectory() ? 'is a folder, not an image file' : 'is not a regular file';
      throw inputError(`--image ${file}: ${what}`, 'give image files, e.g. --image photos/*.jpg');
    }
    images.push({ file, path, bytes: info.size });
  }
  return images;
}

const IMAGE_ERRORS: Record<string, [string, string]> = {
  ENOENT: ['not found', 'check the path (relative paths resolve against the current folder)'],
  EACCES: ['permission denied', 'give a file the current user can read'],
  EPERM: ['permission denied', 'give a file the current user can read'],
  ENOTDIR: ['a parent of it is not a folder', 'check the path'],
};

function imageError(file: string, error: unknown): LambdaMlError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const [what, hint] = IMAGE_ERRORS[code] ?? [`cannot read it (${code || (error as Error).message})`, undefined];
  return inputError(`--image ${file}: ${what}`, hint, error);
}

/** The bucket and key of each image: the trigger's bucket and prefix (or `local`), the file name, kept unique. */
export function imageKeys(manifest: Manifest, images: readonly LocalImage[]): { bucket: string; keys: string[] } {
  const bucket = manifest.trigger?.bucket ?? LOCAL_BUCKET;
  const prefix = manifest.trigger?.prefix ?? '';
  const used = new Set<string>();
  const keys = images.map((image) => {
    const name = basename(image.path);
    const ext = extname(name);
    let key = `${prefix}${name}`;
    for (let n = 2; used.has(key); n++) key = `${prefix}${name.slice(0, name.length - ext.length)}-${n}${ext}`;
    used.add(key);
    return key;
  });
  return { bucket, keys };
}

export interface OfflineInvokeOptions extends Omit<LocalInvokeOptions, 'event' | 'endpoint'> {
  readonly images: readonly LocalImage[];
  readonly onStep?: (line: string) => void;
}

/** Starts the local S3, stages, uploads, invokes, reads the tags back, and always stops the server. */
export async function invokeOffline(options: OfflineInvokeOptions): Promise<OfflineInvokeResult> {
  const { manifest, signal } = options;
  const region = manifest.region ?? 'us-east-1';
  const s3 = await startLocalS3(region);
  try {
    signal?.throwIfAborted();
    const { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const local = <T>(what: string, work: Promise<T>) =>
      work.catch((error: Error) => {
        if (error instanceof LambdaMlError) throw error;
        throw awsError(`the local S3 server failed to ${what} (${error.name}: ${error.message})`, undefined, error);
      });
    options.onStep?.(`local S3 (s3rver) on ${s3.endpoint}: staging the models, ${options.images.length} image(s)`);
    const staged = await local('stage the models', stageToEndpoint(s3.client, manifest, options.outDir));
    const { bucket, keys } = imageKeys(manifest, options.images);
    const created = s3.client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    await local(`create ${bucket}`, created);
    for (const [i, image] of options.images.entries()) {
      signal?.throwIfAborted();
      const body = await readFile(image.path).catch((error) => {
        throw fsError(error, image.path);
      });
      const put = s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: keys[i], Body: body }));
      await local(`store ${image.file}`, put);
    }
    const objects = options.images.map((image, i) => ({ key: keys[i], size: image.bytes }));
    const event = s3PutEventFor(bucket, objects, region);
    const env = localS3Env(options.env, s3.endpoint);
    const report = await invokeLocal({ ...options, event, endpoint: s3.endpoint, env });
    const images: OfflineImage[] = [];
    for (const [i, image] of options.images.entries()) {
      const read = s3.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: keys[i] }));
      const { TagSet } = await local('read the tags', read);
      const tags = Object.fromEntries((TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
      images.push({ file: image.file, bucket, key: keys[i], tags });
    }
    return { report, endpoint: s3.endpoint, staged, images };
  } finally {
    await s3.stop();
  }
}
