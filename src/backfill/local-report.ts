/**
 * The completion report of `backfill --local`, laid out as S3 Batch Operations lays out its own (docs/backfill.md):
 * `<dir>/job-<id>/manifest.json` and `results/<name>.csv` per task status, rows in Report_CSV_20180820. Rows are
 * streamed to files inside a temp folder that is renamed when the report is complete.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { FinishedTask } from './local-runner.js';
import {
  parseReportCsv,
  parseReportManifest,
  REPORT_SCHEMA,
  reportLine,
  type ReportManifest,
  type ReportRow,
} from './report-csv.js';

/** The report row of a finished local task (Lambda answered, so the HTTP status is 200). */
export function rowOf(finished: FinishedTask): ReportRow {
  const ok = finished.code === 'Succeeded';
  return {
    bucket: finished.task.bucket,
    key: finished.task.key,
    versionId: finished.task.versionId,
    taskStatus: ok ? 'succeeded' : 'failed',
    errorCode: ok ? null : finished.code,
    httpStatus: 200,
    resultMessage: finished.message,
  };
}

interface Part {
  readonly status: 'succeeded' | 'failed';
  readonly name: string;
  readonly out: WriteStream;
  readonly md5: ReturnType<typeof createHash>;
  rows: number;
}

export interface LocalReport {
  readonly dir: string; // <dir>/job-<id>
  readonly manifestPath: string;
  readonly files: readonly { readonly status: 'succeeded' | 'failed'; readonly path: string; readonly rows: number }[];
}

/** A streaming report writer. `scope` FailedTasksOnly (the default of backfill) drops succeeded rows. */
export async function createLocalReport(options: {
  readonly dir: string;
  readonly jobId: string;
  readonly scope: 'FailedTasksOnly' | 'AllTasks';
  readonly now?: () => Date;
}) {
  const final = join(options.dir, `job-${options.jobId}`);
  const tmp = `${final}.tmp-${randomBytes(4).toString('hex')}`;
  await mkdir(join(tmp, 'results'), { recursive: true });
  const parts = new Map<string, Part>();
  const partFor = (status: 'succeeded' | 'failed'): Part => {
    let part = parts.get(status);
    if (!part) {
      const name = createHash('sha1').update(`${options.jobId}/${status}`).digest('hex');
      const out = createWriteStream(join(tmp, 'results', `${name}.csv`));
      part = { status, name, out, md5: createHash('md5'), rows: 0 };
      parts.set(status, part);
    }
    return part;
  };
  let closed = false;
  return {
    /** Adds a finished task (ignored when the scope excludes it). */
    add(finished: FinishedTask): void {
      const row = rowOf(finished);
      if (options.scope === 'FailedTasksOnly' && row.taskStatus === 'succeeded') return;
      const part = partFor(row.taskStatus);
      const line = `${reportLine(row)}\n`;
      part.md5.update(line);
      part.rows++;
      part.out.write(line);
    },
    /** Ends the files, writes manifest.json and moves the report into place. */
    async close(): Promise<LocalReport> {
      if (closed) throw new Error('report already closed');
      closed = true;
      try {
        for (const part of parts.values()) {
          part.out.end();
          await once(part.out, 'finish');
        }
        const manifest: ReportManifest = {
          Format: 'Report_CSV_20180820',
          ReportCreationDate: (options.now?.() ?? new Date()).toISOString(),
          Results: [...parts.values()].map((p) => ({
            TaskExecutionStatus: p.status,
            Bucket: 'local',
            MD5Checksum: p.md5.digest('hex'),
            Key: `job-${options.jobId}/results/${p.name}.csv`,
          })),
          ReportSchema: REPORT_SCHEMA,
        };
        await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        await rm(final, { recursive: true, force: true });
        await rename(tmp, final);
      } catch (error) {
        for (const part of parts.values()) part.out.destroy();
        await rm(tmp, { recursive: true, force: true });
        throw error;
      }
      return {
        dir: final,
        manifestPath: join(final, 'manifest.json'),
        files: [...parts.values()].map((p) => ({
          status: p.status,
          path: join(final, 'results', `${p.name}.csv`),
          rows: p.rows,
        })),
      };
    },
    /** Drops the partial report (a run that failed). */
    async abort(): Promise<void> {
      closed = true;
      for (const part of parts.values()) part.out.destroy();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Reads a local report back (manifest.json, then each CSV it lists). */
export async function readLocalReport(reportDir: string): Promise<ReportRow[]> {
  const manifest = parseReportManifest(await readFile(join(reportDir, 'manifest.json'), 'utf8'));
  const rows: ReportRow[] = [];
  // Keys are relative to the report folder's parent, as Batch Operations' are to the report bucket's prefix.
  for (const result of manifest.Results) {
    rows.push(...parseReportCsv(await readFile(join(reportDir, '..', result.Key), 'utf8')));
  }
  return rows;
}
