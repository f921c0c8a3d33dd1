/**
 * s3://bucket/key parsing, the one parser of config, deploy, invoke, remote measuring and the handler (bundled with
 * it); bucket names follow S3's rules.
 */
import { inputError } from './errors.js';
import { BUCKET_RULES_URL, bucketNameProblem } from './s3-bucket-name.js';

export interface S3Location {
  readonly bucket: string;
  readonly key: string; // '' for the bucket root; a trailing '/' marks a prefix
}

const S3_URL = /^s3:\/\/([^/]*)(?:\/(.*))?$/;

/**
 * "s3://bucket/a/b/" -> { bucket: "bucket", key: "a/b/" }; null when it is no s3:// URL or names no bucket. The
 * split alone, without S3's naming rules: for the handler, which reads locations `package` already checked.
 */
export function splitS3Url(url: string): S3Location | null {
  const match = S3_URL.exec(url);
  return match && match[1] !== '' ? { bucket: match[1], key: match[2] ?? '' } : null;
}

/** Why `url` is not a usable s3://bucket/key URL ("the bucket name ... must be 3 to 63 characters long"), or null. */
export function s3UrlProblem(url: string): string | null {
  const match = S3_URL.exec(url);
  if (!match) return 'is not an s3:// URL';
  if (match[1] === '') return 'has no bucket name after s3://';
  const problem = bucketNameProblem(match[1]);
  return problem === null ? null : `has a bucket name "${match[1]}" that breaks S3's naming rules: it ${problem}`;
}

/** The hint for a bad s3:// URL or bucket name. */
export function s3UrlHint(url: string): string {
  if (!url.startsWith('s3://')) return 'write S3 locations as s3://bucket/key or s3://bucket/prefix/';
  return `use a bucket name S3 accepts, e.g. s3://my-models/prefix/ (rules: ${BUCKET_RULES_URL})`;
}

/** "s3://bucket/a/b/" -> { bucket: "bucket", key: "a/b/" }. Throws an input error (exit 2) naming the rule broken. */
export function parseS3Url(url: string, what = url): S3Location {
  const problem = s3UrlProblem(url);
  if (problem !== null) throw inputError(`${what} ${problem}`, s3UrlHint(url));
  return splitS3Url(url) as S3Location;
}

/** { bucket, key } -> "s3://bucket/key". */
export const formatS3Url = (loc: S3Location) => `s3://${loc.bucket}/${loc.key}`;

/** Joins a prefix ("" or ending in "/", or any string) and a name. */
export function joinKey(prefix: string, name: string): string {
  if (!prefix) return name;
  return prefix.endsWith('/') ? `${prefix}${name}` : `${prefix}/${name}`;
}
