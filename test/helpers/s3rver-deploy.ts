/**
 * A private s3rver starter for the deploy/remote tests: a real S3 emulator on loopback, a temp store, a real S3Client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
// s3rver ships no types
// @ts-expect-error untyped CommonJS module
import S3rver from 's3rver';

export interface DeployS3 {
  readonly endpoint: string;
  readonly client: S3Client;
  stop(): Promise<void>;
}

/** s3rver's fixed development credentials (it checks SigV4 signatures against them). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Starts s3rver on 127.0.0.1 with a random port and an empty temp store. */
export async function startDeployS3(): Promise<DeployS3> {
  const directory = await mkdtemp(join(tmpdir(), 'lambda-ml-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
