/**
 * `--manifest csv`: the listing written as a Batch Operations CSV manifest to a local file (streamed, so millions of
 * keys need no memory), then uploaded to the artifacts bucket under a content-addressed key. The same listing gives
 * the same key and ETag, so a retried command sends the same CreateJob request (docs/backfill.md).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsError, fsError } from '../lib/errors.js';
import { joinKey } from '../lib/s3-url.js';
import { manifestLine, type ManifestObject } from './manifest-csv.js';

/** What writeManifestFile wrote. */
export interface ManifestFile {
  readonly path: string;
  readonly objects: number;
  readonly bytes: number;
  readonly sha256: string; // hex, of the file's bytes
  /** hex MD5: the ETag S3 gives a single-part upload without SSE-KMS (so `--dry-run` can show it) */
  readonly md5: string;
}

/** Writes `objects` as manifest lines to `path` (through `path.tmp`, renamed when complete). */
export async function writeManifestFile(
  path: string,
  objects: AsyncIterable<ManifestObject> | Iterable<ManifestObject>,
): Promise<ManifestFile> {
  const tmp = `${path}.tmp`;
  const hash = createHash('sha256');
  const md5 = createHash('md5');
  let count = 0;
  let bytes = 0;
  const out = createWriteStream(tmp);
  const failed = once(out, 'error').then(([error]) => {
    throw fsError(error, tmp, 'write');
  });
  failed.catch(() => {});
  try {
    for await (const object of objects) {
      const line = Buffer.from(`${manifestLine(object)}\n`, 'utf8');
      hash.update(line);
      md5.update(line);
      count++;
      bytes += line.length;
      if (!out.write(line)) await Promise.race([once(out, 'drain'), failed]);
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(tmp, path);
  } catch (error) {
    out.destroy();
    await rm(tmp, { force: true });
    throw error;
  }
  return { path, objects: count, bytes, sha256: hash.digest('hex'), md5: md5.digest('hex') };
}

/** Where an uploaded manifest is: what CreateJob's Manifest.Location needs. */
export interface UploadedManifest {
  readonly bucket: string;
  readonly key: string;
  readonly objectArn: string;
  readonly etag: string; // without quotes
}

/** The manifest's key: `<artifacts.prefix>/backfill/manifests/<sha256>.csv`. */
export function manifestKey(artifactsPrefix: string, sha256: string): string {
  return joinKey(artifactsPrefix, `backfill/manifests/${sha256}.csv`);
}

/** Uploads a written manifest (PutObject, up to 5 GB) and returns its ARN and ETag. `partition` is "aws" usually. */
export async function uploadManifest(
  s3: S3Client,
  file: ManifestFile,
  target: { bucket: string; key: string; partition?: string },
): Promise<UploadedManifest> {
  const { size } = await stat(file.path);
  let etag: string | undefined;
  try {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: createReadStream(file.path),
        ContentLength: size,
        ContentType: 'text/csv',
      }),
    );
    etag = put.ETag;
  } catch (error) {
    const e = error as Error;
    throw awsError(
      `uploading the manifest to s3://${target.bucket}/${target.key} failed: ${e.name}: ${e.message}`,
      'check artifacts.bucket and that your credentials may s3:PutObject there',
      error,
    );
  }
  if (!etag) {
    const where = `s3://${target.bucket}/${target.key}`;
    throw awsError(`uploading the manifest to ${where} returned no ETag`, 'retry the command');
  }
  const partition = target.partition ?? 'aws';
  const objectArn = `arn:${partition}:s3:::${target.bucket}/${target.key}`;
  return { bucket: target.bucket, key: target.key, objectArn, etag: etag.replace(/"/g, '') };
}
