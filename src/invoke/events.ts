/** Test events shaped like the ones S3 sends Lambda. */
import { parseS3Url } from '../lib/s3-url.js';

/** S3 URL-encodes keys in notifications, with spaces as '+' (the handler decodes them back). */
export const encodeS3EventKey = (key: string) => encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');

/** An `ObjectCreated:Put` notification for one object. */
export function s3PutEvent(bucket: string, key: string, size = 0, region = 'us-east-1'): unknown {
  return s3PutEventFor(bucket, [{ key, size }], region);
}

/** One `ObjectCreated:Put` notification with a record per object, as S3 may batch them. */
export function s3PutEventFor(
  bucket: string,
  objects: readonly { key: string; size: number }[],
  region = 'us-east-1',
): unknown {
  return {
    Records: objects.map(({ key, size }) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventTime: new Date(0).toISOString(),
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'lambda-ml-local',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeS3EventKey(key), size },
      },
    })),
  };
}

/** Splits s3://bucket/key (an object: the key is not empty and not a prefix), or null. */
export function parseS3Object(url: string): { bucket: string; key: string } | null {
  try {
    const location = parseS3Url(url);
    return location.key === '' || location.key.endsWith('/') ? null : location;
  } catch {
    return null;
  }
}
