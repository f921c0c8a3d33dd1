/** The handful of S3 calls the handler makes, over the AWS SDK module it was given (sideloaded, layer or task root). */
import type * as S3Sdk from '@aws-sdk/client-s3';
import { s3EndpointConfig, s3EndpointFromEnv } from '../lib/s3-endpoint.js';
import type { Tag } from './tags.js';

export type S3Module = typeof S3Sdk;

/**
 * What processRecord needs from S3. Never PutObject/CopyObject on the source object: that would retrigger the function.
 */
export interface S3Ops {
  head(bucket: string, key: string, versionId: string | null): Promise<{ size: number; contentType: string | null }>;
  get(bucket: string, key: string, versionId: string | null): Promise<Buffer>;
  /** The object's body as a stream (an ONNX model is written to /tmp as it arrives, never held whole). */
  getStream?(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>>;
  getTags(bucket: string, key: string, versionId: string | null): Promise<Tag[]>;
  putTags(bucket: string, key: string, versionId: string | null, tags: readonly Tag[]): Promise<void>;
  /** Writes the JSON sidecar (a different object, under the `results` prefix). */
  putResult(bucket: string, key: string, body: string): Promise<void>;
}

/**
 * An S3 client for the environment `env` (process.env in Lambda): its region, the execution role's keys Lambda puts
 * there, and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (path-style) for local endpoints such as s3rver
 * (lib/s3-endpoint.ts, as deploy and invoke read them). Without keys in `env`, the SDK's own chain finds them.
 */
export function makeS3Client(sdk: S3Module, env: NodeJS.ProcessEnv = process.env): S3Sdk.S3Client {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = env;
  const keys = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null;
  return new sdk.S3Client({
    ...(region ? { region } : {}),
    ...(keys ? { credentials: { ...keys, ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}) } } : {}),
    ...s3EndpointConfig(s3EndpointFromEnv(env)?.url),
  });
}

const v = (versionId: string | null) => (versionId ? { VersionId: versionId } : {});

/**
 * Starts a GetObject and resolves with its body as a stream of bytes: the deps archive is extracted as it arrives
 * (sideload.ts), never held whole.
 */
export function makeS3BodyFetcher(
  sdk: S3Module,
  client: S3Sdk.S3Client,
): (bucket: string, key: string) => Promise<AsyncIterable<Uint8Array>> {
  return async (Bucket, Key) => {
    const res = await client.send(new sdk.GetObjectCommand({ Bucket, Key }));
    return (res.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})();
  };
}

/** S3Ops over a real SDK client. */
export function makeS3Ops(sdk: S3Module, client: S3Sdk.S3Client): S3Ops {
  return {
    async head(Bucket, Key, versionId) {
      const res = await client.send(new sdk.HeadObjectCommand({ Bucket, Key, ...v(versionId) }));
      return { size: res.ContentLength ?? 0, contentType: res.ContentType ?? null };
    },
    async get(Bucket, Key, versionId) {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket, Key, ...v(versionId) }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    getStream: makeS3BodyFetcher(sdk, client),
    async getTags(Bucket, Key, versionId) {
      const res = await client.send(new sdk.GetObjectTaggingCommand({ Bucket, Key, ...v(versionId) }));
      return (res.TagSet ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
    },
    async putTags(Bucket, Key, versionId, tags) {
      await client.send(
        new sdk.PutObjectTaggingCommand({
          Bucket,
          Key,
          ...v(versionId),
          Tagging: { TagSet: tags.map((t) => ({ Key: t.Key, Value: t.Value })) },
        }),
      );
    },
    async putResult(Bucket, Key, body) {
      await client.send(new sdk.PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'application/json' }));
    },
  };
}

const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'TimeoutError',
  'OperationAborted',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/** Whether an AWS error is worth retrying: throttling, 5xx, timeouts and network failures. */
export function isTransient(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    cause?: unknown;
  };
  if (!e || typeof e !== 'object') return false;
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || status === 429 || e.$retryable) return true;
  if (TRANSIENT_NAMES.has(e.name ?? '') || NETWORK_CODES.has(e.code ?? '')) return true;
  return e.cause !== undefined && e.cause !== error && isTransient(e.cause);
}

/** Whether an error means the object is gone (deleted after the event was sent); a missing bucket is not that. */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NoSuchVersion';
}
