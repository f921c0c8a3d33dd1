/**
 * The completion report of S3 Batch Operations (format Report_CSV_20180820; docs/backfill.md, "The report"): a
 * top-level `job-<id>/manifest.json` listing result CSVs, each row `Bucket,Key,VersionId,TaskStatus,ErrorCode,
 * HTTPStatusCode,ResultMessage` by its ReportSchema. AWS's own sample rows put the HTTP status before the error code
 * (`bucket,key,,failed,200,PermanentFailure,"Lambda returned function error: ..."`), so the parser takes the numeric
 * one of the two as the status, whichever order a file uses. Keys are URL-encoded as in the manifest.
 */
import { csvLine, parseCsv } from './csv.js';
import { decodeManifestKey, encodeManifestKey } from './manifest-csv.js';

export const REPORT_SCHEMA = 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage';

/** One task of the report. */
export interface ReportRow {
  readonly bucket: string;
  readonly key: string; // decoded
  readonly versionId: string | null;
  readonly taskStatus: 'succeeded' | 'failed';
  readonly errorCode: string | null; // PermanentFailure, TemporaryFailure, or an S3 error code
  readonly httpStatus: number | null;
  readonly resultMessage: string;
}

/** The top-level manifest.json of a report. */
export interface ReportManifest {
  readonly Format: string;
  readonly ReportCreationDate: string;
  readonly Results: readonly {
    readonly TaskExecutionStatus: string;
    readonly Bucket: string;
    readonly MD5Checksum: string;
    readonly Key: string;
  }[];
  readonly ReportSchema: string;
}

const isStatus = (s: string) => /^\d{3}$/.test(s);

/** Parses one result CSV. Throws (with the line number) on a row that is not a report row. */
export function parseReportCsv(text: string): ReportRow[] {
  return parseCsv(text)
    .filter((fields) => !(fields.length === 1 && fields[0] === ''))
    .map((f, i) => {
      if (f.length < 4) throw new Error(`report line ${i + 1}: expected 7 fields (${REPORT_SCHEMA}), got ${f.length}`);
      const [bucket, key, versionId, status, a = '', b = '', ...rest] = f;
      const taskStatus = status.toLowerCase();
      if (taskStatus !== 'succeeded' && taskStatus !== 'failed') {
        throw new Error(`report line ${i + 1}: TaskStatus "${status}" is neither succeeded nor failed`);
      }
      const [http, code] = isStatus(a) || (!isStatus(b) && a === '') ? [a, b] : [b, a];
      return {
        bucket,
        key: decodeManifestKey(key),
        versionId: versionId || null,
        taskStatus,
        errorCode: code || null,
        httpStatus: http ? Number(http) : null,
        resultMessage: rest.length ? rest.join(',') : '',
      };
    });
}

/** Parses and checks a report's manifest.json. */
export function parseReportManifest(text: string): ReportManifest {
  const doc = JSON.parse(text) as ReportManifest;
  if (doc?.Format !== 'Report_CSV_20180820' || !Array.isArray(doc.Results)) {
    throw new Error(`not a Batch Operations report manifest (Format ${JSON.stringify(doc?.Format)})`);
  }
  return doc;
}

/** One report line as Batch Operations writes it (HTTP status before error code, as in AWS's samples). */
export function reportLine(row: ReportRow): string {
  return csvLine([
    row.bucket,
    encodeManifestKey(row.key),
    row.versionId ?? '',
    row.taskStatus,
    row.httpStatus === null ? '' : String(row.httpStatus),
    row.errorCode ?? '',
    row.resultMessage,
  ]);
}
