/**
 * The S3 endpoint override, read as the AWS SDK reads it, and the client settings that go with one. One module for
 * the handler (bundled with it), deploy's clients, `invoke --local` and `backfill --local`.
 */

/** The variables the SDK takes an S3 endpoint from, most specific first. */
export const S3_ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'] as const;

/** An endpoint set in the environment, with the variable that set it (for messages). */
export interface EnvEndpoint {
  readonly variable: (typeof S3_ENDPOINT_VARIABLES)[number];
  readonly url: string;
}

/** The S3 endpoint `env` sets, or null for AWS itself. An empty variable counts as unset, as the SDK counts it. */
export function s3EndpointFromEnv(env: Readonly<Record<string, string | undefined>>): EnvEndpoint | null {
  for (const variable of S3_ENDPOINT_VARIABLES) {
    const url = env[variable];
    if (url) return { variable, url };
  }
  return null;
}

/**
 * S3Client settings for `endpoint`: path-style addressing, because bucket-in-hostname names do not resolve on an
 * emulator (s3rver, LocalStack on localhost). Nothing for AWS itself.
 */
export function s3EndpointConfig(endpoint: string | null | undefined): { endpoint?: string; forcePathStyle?: true } {
  return endpoint ? { endpoint, forcePathStyle: true } : {};
}
