/** Puts what a deployed function fetches at run time (models, an S3-sideloaded deps.zip) into a local S3 endpoint. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Manifest } from '../types.js';
import { fsError } from '../lib/errors.js';
import { parseS3Url } from '../lib/s3-url.js';

/** Uploads each object that is missing or has another size; returns the s3:// URLs written. */
export async function stageToEndpoint(s3: S3Client, manifest: Manifest, outDir: string): Promise<string[]> {
  const { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const items: { bucket: string; key: string; file: string; bytes: number }[] = [];
  for (const model of manifest.artifacts.models) {
    if (!model.s3) continue;
    const { bucket, key } = parseS3Url(model.s3);
    const prefix = key && !key.endsWith('/') ? `${key}/` : key;
    for (const file of model.files)
      items.push({ bucket, key: `${prefix}${file.name}`, file: join(outDir, model.dir, file.name), bytes: file.bytes });
  }
  const deps = manifest.artifacts.deps;
  if (deps?.s3) items.push({ ...parseS3Url(deps.s3), file: join(outDir, deps.file), bytes: deps.bytes });
  const written: string[] = [];
  const buckets = new Set<string>();
  for (const item of items) {
    if (!buckets.has(item.bucket)) {
      buckets.add(item.bucket);
      await s3.send(new CreateBucketCommand({ Bucket: item.bucket })).catch((error: { name?: string }) => {
        if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
      });
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: item.bucket, Key: item.key })).catch(() => null);
    if (head?.ContentLength === item.bytes) continue;
    const body = await readFile(item.file).catch((error) => {
      throw fsError(error, item.file);
    });
    await s3.send(new PutObjectCommand({ Bucket: item.bucket, Key: item.key, Body: body }));
    written.push(`s3://${item.bucket}/${item.key}`);
  }
  return written;
}
