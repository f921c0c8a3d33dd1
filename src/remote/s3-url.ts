/** s3://bucket/key parsing shared by deploy and remote measuring. */
import { inputError } from '../lib/errors.js';

export interface S3Location {
  readonly bucket: string;
  readonly key: string;                   // '' for the bucket root; a trailing '/' marks a prefix
}

/** "s3://bucket/a/b/" -> { bucket: "bucket", key: "a/b/" }. Throws an input error (exit 2) on anything else. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) throw inputError(`${url}: not an s3://bucket/key URL`, 'write S3 locations as s3://bucket/key or s3://bucket/prefix/');
  return { bucket: match[1], key: match[2] ?? '' };
}

/** { bucket, key } -> "s3://bucket/key". */
export const formatS3Url = (loc: S3Location) => `s3://${loc.bucket}/${loc.key}`;

/** Joins a prefix ("" or ending in "/", or any string) and a name. */
export function joinKey(prefix: string, name: string): string {
  if (!prefix) return name;
  return prefix.endsWith('/') ? `${prefix}${name}` : `${prefix}/${name}`;
}
