/**
 * A minimal S3 GetObject on Node built-ins (SigV4, unsigned payload). The bootstrap needs it to fetch deps.zip
 * before any npm package (the AWS SDK included) can be loaded: the SDK may itself live in that zip.
 */
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** `s3://bucket/key/with/slashes` -> { bucket, key }. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: m[1], key: m[2] };
}

/** The S3 endpoint override the handler honours (same variables as the AWS SDK). */
export const s3Endpoint = (env: NodeJS.ProcessEnv) => env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || null;

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
// RFC 3986 encoding as SigV4 wants it: everything but unreserved characters.
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A signed GET request for s3://bucket/key: where to send it and its headers (SigV4, unsigned payload). */
export interface SignedGet {
  readonly url: URL;
  readonly path: string;
  readonly headers: Record<string, string>;
}

/** Signs a GET of s3://bucket/key with the credentials in `env` (Lambda sets them from the execution role). */
export function signS3Get(
  bucket: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): SignedGet {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const accessKey = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKey || !secret)
    throw new Error(
      'cannot fetch deps.zip from S3: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are ' +
        'not set (Lambda sets them from the execution role)',
    );
  const endpoint = s3Endpoint(env);
  const base = new URL(
    endpoint ??
      (bucket.includes('.') ? `https://s3.${region}.amazonaws.com` : `https://${bucket}.s3.${region}.amazonaws.com`),
  );
  const pathStyle = endpoint !== null || bucket.includes('.');
  const basePath = base.pathname.replace(/\/$/, '');
  const path = `${basePath}${pathStyle ? `/${encode(bucket)}` : ''}/${key.split('/').map(encode).join('/')}`;
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    host: base.host,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-date': amzDate,
  };
  if (env.AWS_SESSION_TOKEN) headers['x-amz-security-token'] = env.AWS_SESSION_TOKEN;
  const names = Object.keys(headers).sort();
  const canonical = [
    'GET',
    path,
    '',
    ...names.map((n) => `${n}:${headers[n]}`),
    '',
    names.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 's3'), 'aws4_request');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, ` +
    `SignedHeaders=${names.join(';')}, Signature=${hmac(signingKey, toSign).toString('hex')}`;
  return { url: base, path, headers };
}

/** Starts a signed GET of s3://bucket/key and resolves with the response (status 200) or rejects with the S3 error. */
export async function s3GetObject(
  bucket: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<IncomingMessage> {
  const { url: base, path, headers } = signS3Get(bucket, key, env);
  const request = base.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      { protocol: base.protocol, hostname: base.hostname, port: base.port || undefined, path, method: 'GET', headers },
      (res) => {
        if (res.statusCode === 200) return resolve(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP ${res.statusCode}`;
          const error = new Error(`S3 GetObject s3://${bucket}/${key} failed: ${code}`) as Error & {
            code: string;
            statusCode?: number;
          };
          error.code = code;
          error.statusCode = res.statusCode;
          reject(error);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
