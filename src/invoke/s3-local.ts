/**
 * `invoke --local --s3-local`: an embedded S3-compatible server (s3rver, loaded only here) on 127.0.0.1, on a free
 * port, storing into a temp folder that stop() removes. It signs with fixed test credentials, never the user's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { inputError } from '../lib/errors.js';
import { S3_ENDPOINT_VARIABLES } from '../lib/s3-endpoint.js';

/** The credentials s3rver accepts (its documented defaults). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A running local S3. */
export interface LocalS3 {
  readonly endpoint: string;
  readonly client: S3Client;
  /** Stops the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverServer;

function loadS3rver(): S3rverClass {
  try {
    return createRequire(import.meta.url)('s3rver') as S3rverClass;
  } catch (error) {
    const hint = 'reinstall lambda-ml (npm install)';
    throw inputError('--s3-local needs the s3rver package, which is not installed', hint, error);
  }
}

/** Starts s3rver and an SDK client for it. */
export async function startLocalS3(region: string): Promise<LocalS3> {
  const S3rver = loadS3rver();
  const { S3Client } = await import('@aws-sdk/client-s3');
  const directory = await mkdtemp(join(tmpdir(), 'lambda-ml-s3-local-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, resetOnClose: true });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw inputError(`--s3-local: cannot start the local S3 server (${(error as Error).message})`, undefined, error);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    // s3rver predates flexible checksums; only send them where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      client.destroy();
      await server.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    })();
    return stopped;
  };
  return { endpoint, client, stop };
}

/** The caller's env without its AWS identity, with the local server's credentials and endpoint instead. */
export function localS3Env(env: NodeJS.ProcessEnv, endpoint: string): NodeJS.ProcessEnv {
  const drop = new Set([
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    ...S3_ENDPOINT_VARIABLES,
  ]);
  const kept = Object.fromEntries(Object.entries(env).filter(([key]) => !drop.has(key)));
  return {
    ...kept,
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoint,
  };
}
