/** Starts the real s3rver on loopback (random port, temp folder) with the real @aws-sdk/client-s3 pointed at it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);

/** A running s3rver. */
export interface S3Server {
  readonly endpoint: string;
  readonly client: S3Client;
  /** Env vars that point the handler (and its SigV4 fetcher) at this server. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Minimal view of a node:test context: enough to register cleanup. */
interface TestContextLike {
  after(fn: () => unknown): void;
}

/** Starts s3rver (credentials S3RVER/S3RVER, region us-east-1); stopped by `stop()` or when `t` ends. */
export async function startS3(t?: TestContextLike): Promise<S3Server> {
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  };
  const directory = await mkdtemp(join(tmpdir(), 'lambda-ml-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, resetOnClose: true });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates flexible checksums; only send them where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const env = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  };
  t?.after(stop);
  return { endpoint, client, env, stop };
}
