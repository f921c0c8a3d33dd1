/**
 * The S3 Control client of `backfill`. Its endpoint rules put the account id in front of the host, also for a custom
 * endpoint (`http://{AccountId}.{authority}`), and `disableHostPrefix` does not change that. So a loopback endpoint
 * (LocalStack, the tests' server) is given as `localhost` and the client's agent resolves `<account>.localhost` to the
 * loopback address itself: the real endpoint rules run, and no DNS is needed (docs/backfill.md).
 */
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { S3ControlClient, type S3ControlClientConfig } from '@aws-sdk/client-s3-control';

export interface S3ControlOptions {
  readonly region: string;
  readonly endpoint?: string | null;
  readonly credentials?: S3ControlClientConfig['credentials'];
  readonly maxAttempts?: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** For a loopback endpoint: the endpoint with host `localhost` and a lookup answering `*.localhost` with `address`. */
export function loopbackEndpoint(endpoint: string): { endpoint: string; address: string; family: 4 | 6 } | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return null;
  }
  if (!LOOPBACK.has(url.hostname)) return null;
  const family = url.hostname.includes(':') ? 6 : 4;
  const address = family === 6 ? '::1' : '127.0.0.1';
  url.hostname = 'localhost';
  return { endpoint: url.toString().replace(/\/$/, ''), address, family };
}

/** Resolves `localhost` and any `*.localhost` name to one loopback address; other names go to the system resolver. */
function loopbackLookup(address: string, family: 4 | 6): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
      return dnsLookup(hostname, options as never, callback as never);
    }
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/** A client for the region, or for `endpoint` (an override such as --endpoint-url). */
export function makeS3ControlClient(options: S3ControlOptions): S3ControlClient {
  const config: S3ControlClientConfig = { region: options.region, maxAttempts: options.maxAttempts };
  if (options.credentials) config.credentials = options.credentials;
  if (options.endpoint) {
    const loopback = loopbackEndpoint(options.endpoint);
    config.endpoint = loopback?.endpoint ?? options.endpoint;
    if (loopback) {
      const lookup = loopbackLookup(loopback.address, loopback.family);
      config.requestHandler = { httpAgent: new http.Agent({ keepAlive: true, lookup }) };
    }
  }
  return new S3ControlClient(config);
}
