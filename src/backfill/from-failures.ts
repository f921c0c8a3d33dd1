/**
 * `backfill --from-failures` (docs/backfill.md, "Failures that are not lost"): the objects whose S3 events failed
 * every asynchronous attempt, read back from the S3 on-failure destination. Lambda writes one JSON record per failed
 * event there; its `requestPayload` is the original S3 event, whose object keys are URL-encoded (`+` is a space).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsError } from '../lib/errors.js';
import { matchesKeyFilter } from './key-filter.js';
import {
  emptyListingStats,
  listBackfillObjects,
  type ListedObject,
  type ListingStats,
  type ListSource,
} from './manifest-list.js';

/** Where the failure records are, and whose they are. */
export interface FailureSource {
  readonly bucket: string;
  readonly functionName: string;
}

interface S3Record {
  readonly s3?: {
    readonly bucket?: { readonly name?: unknown };
    readonly object?: {
      readonly key?: unknown;
      readonly size?: unknown;
    };
  };
}

/** The S3 objects one on-failure record names, when it is a record of `functionName` (else none). */
export function objectsOfFailureRecord(record: unknown, functionName: string): ListedObject[] {
  if (!record || typeof record !== 'object') return [];
  const { requestContext, requestPayload } = record as {
    requestContext?: { functionArn?: unknown };
    requestPayload?: { Records?: unknown };
  };
  const arn = typeof requestContext?.functionArn === 'string' ? requestContext.functionArn : '';
  if (!new RegExp(`:function:${functionName}(?::|$)`).test(arn)) return [];
  const records = Array.isArray(requestPayload?.Records) ? (requestPayload.Records as S3Record[]) : [];
  const out: ListedObject[] = [];
  for (const entry of records) {
    const bucket = entry.s3?.bucket?.name;
    const key = entry.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof key !== 'string') continue;
    const size = typeof entry.s3?.object?.size === 'number' ? entry.s3.object.size : 0;
    out.push({ bucket, key: decodeURIComponent(key.replace(/\+/g, ' ')), size });
  }
  return out;
}

/**
 * Yields each object named by the failure records in `failures.bucket` once, kept by `filter` (the source's bucket,
 * prefix and suffixes). A record that is not JSON is skipped: the bucket may hold other objects.
 */
export async function* listFailedObjects(
  s3: S3Client,
  failures: FailureSource,
  filter: ListSource,
  options: { stats?: ListingStats } = {},
): AsyncGenerator<ListedObject> {
  const seen = new Set<string>();
  const { stats } = options;
  const listing = { bucket: failures.bucket, prefix: '', suffixes: [] };
  // The failure records count as listed (and their LIST requests as requests); the objects they name as matched.
  const records = emptyListingStats();
  for await (const item of listBackfillObjects(s3, listing, { stats: records })) {
    if (stats) {
      stats.listed = records.listed;
      stats.requests = records.requests;
    }
    let body: string;
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: failures.bucket, Key: item.key }));
      body = (await got.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      const e = error as Error;
      throw awsError(
        `reading the failure record s3://${failures.bucket}/${item.key} failed: ${e.name}: ${e.message}`,
        'check that your credentials may s3:GetObject on the on-failure bucket',
        error,
      );
    }
    let record: unknown;
    try {
      record = JSON.parse(body);
    } catch {
      continue;
    }
    for (const object of objectsOfFailureRecord(record, failures.functionName)) {
      const id = `${object.bucket}/${object.key}`;
      if (seen.has(id) || object.bucket !== filter.bucket || !matchesKeyFilter(object.key, filter)) continue;
      seen.add(id);
      if (stats) {
        stats.matched++;
        stats.bytes += object.size;
      }
      yield object;
    }
  }
}
