/** Content-addressed uploads: skipped when the object is already there with the same size and sha256. */
import { open, readFile } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { DeployContext } from './context.js';
import { isNotFound } from '../remote/aws-errors.js';

/** One file to put in S3. */
export interface UploadItem {
  readonly file: string; // absolute path
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string; // hex
}

export interface UploadOptions {
  /** Files above this go up in parts (default 64 MiB). */
  readonly multipartThresholdBytes: number;
  /** Part size (S3's minimum is 5 MiB for all parts but the last; default 16 MiB). */
  readonly partBytes: number;
  readonly concurrency: number;
}

export const DEFAULT_UPLOAD: UploadOptions = {
  multipartThresholdBytes: 64 * 1_048_576,
  partBytes: 16 * 1_048_576,
  concurrency: 4,
};

export const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** True when HeadObject shows the same content: same size, and our sha256 metadata or S3's own SHA-256 checksum. */
async function isAlreadyThere(ctx: DeployContext, item: UploadItem): Promise<boolean> {
  try {
    const head = await ctx.read('HeadObject', { Bucket: item.bucket, Key: item.key }, () =>
      ctx.s3.send(new HeadObjectCommand({ Bucket: item.bucket, Key: item.key, ChecksumMode: 'ENABLED' })),
    );
    if (head.ContentLength !== item.bytes) return false;
    return head.Metadata?.sha256 === item.sha256 || head.ChecksumSHA256 === hexToBase64(item.sha256);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Uploads `item` unless it is already there; returns what happened. Files are sent as buffers (no aws-chunked streams).
 */
export async function uploadFile(
  ctx: DeployContext,
  item: UploadItem,
  options: UploadOptions = DEFAULT_UPLOAD,
): Promise<'uploaded' | 'skipped'> {
  const url = `s3://${item.bucket}/${item.key}`;
  if (await isAlreadyThere(ctx, item)) {
    ctx.log(`skip ${url} (already there, same sha256)`);
    return 'skipped';
  }
  const metadata = { sha256: item.sha256 };
  if (item.bytes <= options.multipartThresholdBytes) {
    await ctx.write(
      'PutObject',
      { Bucket: item.bucket, Key: item.key, ContentLength: item.bytes, sha256: item.sha256 },
      async () => {
        const body = await readFile(item.file);
        // S3 verifies the SHA-256 we send and keeps it as the object's checksum
        await ctx.s3.send(
          new PutObjectCommand({
            Bucket: item.bucket,
            Key: item.key,
            Body: body,
            Metadata: metadata,
            ChecksumSHA256: hexToBase64(item.sha256),
          }),
        );
        ctx.progress({ phase: 'upload', key: url, loaded: item.bytes, total: item.bytes });
      },
      () => undefined,
    );
  } else {
    await uploadMultipart(ctx, item, metadata, options);
  }
  ctx.log(`uploaded ${url} (${item.bytes} bytes)`);
  return 'uploaded';
}

async function uploadMultipart(
  ctx: DeployContext,
  item: UploadItem,
  metadata: Record<string, string>,
  options: UploadOptions,
): Promise<void> {
  const { bucket, key } = item;
  const partBytes = Math.max(options.partBytes, 5 * 1_048_576);
  const count = Math.ceil(item.bytes / partBytes);
  const created = await ctx.write(
    'CreateMultipartUpload',
    { Bucket: bucket, Key: key, ContentLength: item.bytes, Parts: count, sha256: item.sha256 },
    () => ctx.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: metadata })),
    () => ({ UploadId: 'dry-run', $metadata: {} }),
  );
  if (ctx.dryRun) {
    ctx.calls.push({ op: 'UploadPart', params: { Bucket: bucket, Key: key, Parts: count }, write: true });
    ctx.calls.push({ op: 'CompleteMultipartUpload', params: { Bucket: bucket, Key: key }, write: true });
    return;
  }
  const uploadId = created.UploadId!;
  const handle = await open(item.file, 'r');
  const etags: string[] = new Array(count);
  let loaded = 0;
  let next = 0;
  try {
    ctx.step = 'UploadPart';
    const worker = async () => {
      while (next < count) {
        const index = next++;
        const start = index * partBytes;
        const length = Math.min(partBytes, item.bytes - start);
        const body = Buffer.alloc(length);
        await handle.read(body, 0, length, start);
        const part = await ctx.s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body }),
        );
        etags[index] = part.ETag!;
        loaded += length;
        ctx.progress({ phase: 'upload', key: `s3://${bucket}/${key}`, loaded, total: item.bytes });
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, count) }, worker));
    ctx.calls.push({ op: 'UploadPart', params: { Bucket: bucket, Key: key, Parts: count }, write: true });
    await ctx.write(
      'CompleteMultipartUpload',
      { Bucket: bucket, Key: key },
      () =>
        ctx.s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
          }),
        ),
      () => ({}),
    );
  } catch (error) {
    // best effort: an abandoned upload keeps costing storage until a lifecycle rule removes it
    await ctx.s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => {});
    throw error;
  } finally {
    await handle.close();
  }
}
