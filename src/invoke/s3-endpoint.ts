/**
 * The S3 side of `invoke --local`, checked before the function starts: the endpoint is a URL and answers, and
 * there are credentials to sign with. Each failure is one line with the fix (docs/design.md, "Errors").
 */
import { connect } from 'node:net';
import { awsError, inputError } from '../lib/errors.js';
import { s3EndpointFromEnv } from '../lib/s3-endpoint.js';

const LOCAL_HINT = 'or use --s3-local --image FILE to try the handler on a built-in local S3';

/** Reads `value` (from `source`: "--endpoint" or an env variable) as an http(s) URL; exit 2 otherwise. */
export function parseEndpoint(value: string, source: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    const problem = !url
      ? 'is not a URL (an S3 endpoint is http:// or https://)'
      : url.hostname === ''
        ? 'has no host'
        : `must use http:// or https://, not ${url.protocol}//`;
    const example = `${source === '--endpoint' ? '--endpoint ' : `${source}=`}http://127.0.0.1:4569`;
    throw inputError(`${source} "${value}" ${problem}`, `e.g. ${example}, ${LOCAL_HINT}`);
  }
  return value;
}

/** --endpoint (`flag`), else the SDK's S3 endpoint variables, checked as a URL; null for AWS itself. */
export function chooseEndpoint(flag: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (flag !== undefined) return parseEndpoint(flag, '--endpoint');
  const fromEnv = s3EndpointFromEnv(env);
  return fromEnv ? parseEndpoint(fromEnv.url, fromEnv.variable) : null;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

/** Opens (and closes) a TCP connection to the endpoint; exit 3 naming why when it cannot. */
export function probeEndpoint(endpoint: string, timeoutMs = 5000): Promise<void> {
  const url = new URL(endpoint);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((done, fail) => {
    const socket = connect({ host, port });
    const failWith = (reason: string) => {
      socket.destroy();
      const hint = `start the S3 server there (or fix the URL), ${LOCAL_HINT}`;
      fail(awsError(`cannot reach the S3 endpoint ${endpoint} (${reason})`, hint));
    };
    socket.setTimeout(timeoutMs, () => failWith(`no answer in ${timeoutMs / 1000} s`));
    socket.once('connect', () => {
      socket.end();
      done();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      failWith(REASONS[error.code ?? ''] ?? error.code ?? error.message);
    });
  });
}

/**
 * Resolves credentials through the SDK's own chain (environment, profiles, SSO, instance role): the child's SDK
 * would find the same. None found is exit 3 with the ways to set them.
 */
export async function checkCredentials(env: NodeJS.ProcessEnv): Promise<void> {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && !env.AWS_PROFILE) return; // what the SDK would take first
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const profile = env.AWS_PROFILE;
  const { S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ region, ...(profile ? { profile } : {}) });
  try {
    await client.config.credentials();
  } catch (error) {
    const name = (error as Error).name;
    if (name !== 'CredentialsProviderError' && !/credential/i.test(name)) {
      const message = `cannot load AWS credentials (${(error as Error).message})`;
      throw awsError(message, 'check AWS_PROFILE and ~/.aws/config', error);
    }
    throw awsError(
      "no AWS credentials were found for the handler's S3 calls",
      `set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE (or run aws sso login), ${LOCAL_HINT}`,
      error,
    );
  } finally {
    client.destroy();
  }
}
