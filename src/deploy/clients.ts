/** Builds the two SDK clients deploy and the remote measures use. */
import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { s3EndpointConfig, s3EndpointFromEnv } from '../lib/s3-endpoint.js';

export interface ClientOptions {
  readonly region?: string | null;
  readonly profile?: string | null;
  /** One endpoint for every client (LocalStack, an emulator): S3 then uses path-style addressing. */
  readonly endpointUrl?: string | null;
  /** The environment, for AWS_ENDPOINT_URL(_S3): an S3 endpoint there is passed on, path-style (lib/s3-endpoint). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly credentials?: LambdaClientConfig['credentials'];
  readonly maxAttempts?: number;
}

export interface AwsClients {
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
}

/** LambdaClient + S3Client from the standard chain, honouring --region/--profile/--endpoint-url. */
export function makeClients(options: ClientOptions = {}): AwsClients {
  const env = options.env ?? {};
  const endpoint = options.endpointUrl ?? undefined;
  const s3Endpoint = endpoint ?? s3EndpointFromEnv(env)?.url;
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  };
  return {
    lambda: new LambdaClient({ ...common, ...(endpoint ? { endpoint } : {}) }),
    s3: new S3Client({ ...common, ...s3EndpointConfig(s3Endpoint) }),
  };
}
