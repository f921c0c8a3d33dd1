/** Lists the objects a backfill covers with ListObjectsV2 (1,000 keys per request), filtered by suffix. */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { awsError } from '../lib/errors.js';
import { matchesKeyFilter, type KeyFilter } from './key-filter.js';
import type { ManifestObject } from './manifest-csv.js';

/** A listed object with its size (the cost estimate and `--dry-run` count them). */
export interface ListedObject extends ManifestObject {
  readonly size: number;
}

export interface ListSource extends KeyFilter {
  readonly bucket: string;
}

/** Counts of a finished listing. */
export interface ListingStats {
  listed: number; // keys ListObjectsV2 returned under the prefix
  matched: number; // of which the filter keeps
  bytes: number; // their total size
  requests: number; // ListObjectsV2 calls made (LIST requests are billed)
}

/**
 * Yields every object of `source` that matches the filter, page by page (`pageSize` keys per ListObjectsV2, S3's
 * maximum 1,000 by default). `stats` is updated as it goes, so a caller can show progress. An S3 error is an AWS
 * error (exit 3) naming the bucket.
 */
export async function* listBackfillObjects(
  s3: S3Client,
  source: ListSource,
  options: { stats?: ListingStats; pageSize?: number } = {},
): AsyncGenerator<ListedObject> {
  const { stats } = options;
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(
        new ListObjectsV2Command({
          Bucket: source.bucket,
          Prefix: source.prefix || undefined,
          ContinuationToken: token,
          MaxKeys: options.pageSize,
        }),
      );
    } catch (error) {
      const e = error as Error;
      throw awsError(
        `listing s3://${source.bucket}/${source.prefix} failed: ${e.name}: ${e.message}`,
        'check the bucket name, the region and that your credentials may s3:ListBucket on it',
        error,
      );
    }
    if (stats) stats.requests++;
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined) continue;
      if (stats) stats.listed++;
      if (!matchesKeyFilter(item.Key, source)) continue;
      const size = item.Size ?? 0;
      if (stats) {
        stats.matched++;
        stats.bytes += size;
      }
      yield { bucket: source.bucket, key: item.Key, size };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** A fresh stats record. */
export const emptyListingStats = (): ListingStats => ({ listed: 0, matched: 0, bytes: 0, requests: 0 });
