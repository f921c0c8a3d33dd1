/**
 * Reads a job's completion report from S3: `<prefix>/job-<id>/manifest.json`, then each result CSV it lists. When
 * that key is absent (a prefix written with or without its slash), the prefix is listed for the job's manifest.json.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { awsError } from '../lib/errors.js';
import { parseReportCsv, parseReportManifest, type ReportRow } from './report-csv.js';

const text = async (s3: S3Client, bucket: string, key: string) => {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body ? await out.Body.transformToString('utf8') : '';
};

const isMissing = (error: unknown) => ['NoSuchKey', 'NotFound'].includes((error as Error)?.name);

/** The report's manifest.json key, or null when the job wrote none (no task ran). */
async function findManifestKey(s3: S3Client, bucket: string, prefix: string, jobId: string): Promise<string | null> {
  const direct = `${prefix.replace(/\/+$/, '')}/job-${jobId}/manifest.json`;
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: direct }));
    return direct;
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const hit = (page.Contents ?? []).find((o) => o.Key?.endsWith(`job-${jobId}/manifest.json`));
    if (hit?.Key) return hit.Key;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return null;
}

/** Every row of the job's report (failed tasks only, unless the job asked for AllTasks); [] when there is none. */
export async function readCompletionReport(
  s3: S3Client,
  where: { readonly bucket: string; readonly prefix: string; readonly jobId: string },
): Promise<ReportRow[]> {
  try {
    const key = await findManifestKey(s3, where.bucket, where.prefix, where.jobId);
    if (key === null) return [];
    const manifest = parseReportManifest(await text(s3, where.bucket, key));
    const rows: ReportRow[] = [];
    for (const result of manifest.Results) rows.push(...parseReportCsv(await text(s3, result.Bucket, result.Key)));
    return rows;
  } catch (error) {
    const e = error as Error;
    const from = `s3://${where.bucket}/${where.prefix}`;
    throw awsError(
      `reading the completion report of job ${where.jobId} from ${from} failed: ${e.name}: ${e.message}`,
      'the caller needs s3:GetObject and s3:ListBucket on the report prefix (lambda-ml policy --backfill)',
      error,
    );
  }
}
