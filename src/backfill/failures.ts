/**
 * Failed tasks grouped by reason, for the end of `--wait` and `--local` (docs/backfill.md, "The report"). The reason
 * is the handler's own (its result strings read `failed (<reason>): <message>`), a Lambda timeout, or else the
 * message with its ids, numbers and timestamps blanked, so that a million failures print as a few lines.
 */
import type { ReportRow } from './report-csv.js';

export interface FailureGroup {
  readonly errorCode: string; // PermanentFailure, TemporaryFailure, or the S3 error
  readonly reason: string;
  readonly count: number;
  readonly examples: readonly string[]; // up to `examples` s3://bucket/key
  readonly message: string; // the first message, as the report has it (cut to 300 characters)
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T[\d:.]+Z?/g;
const NUMBER = /\d+(\.\d+)?/g;

/** The reason of one failed row. */
export function failureReason(row: ReportRow): string {
  const message = row.resultMessage.trim();
  const ours = /^(?:failed|skipped) \(([^)]+)\)/.exec(message);
  if (ours) return ours[1];
  if (/Task timed out after/i.test(message)) return 'Lambda timeout';
  const lambda = /^Lambda returned function error: (.*)$/s.exec(message);
  const body = lambda ? lambda[1] : message;
  let inner = body;
  try {
    const parsed = JSON.parse(body) as { errorType?: string; errorMessage?: string };
    if (parsed.errorType) return `function error ${parsed.errorType}`;
    if (parsed.errorMessage) inner = parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  const template = inner
    .replace(UUID, '<id>')
    .replace(ISO_TIME, '<time>')
    .replace(NUMBER, 'N')
    .replace(/\s+/g, ' ')
    .trim();
  return (lambda ? `function error: ${template}` : template || row.errorCode || 'unknown').slice(0, 160);
}

/** Groups the failed rows of a report, largest group first (ties by reason). */
export function groupFailures(rows: readonly ReportRow[], examples = 3): FailureGroup[] {
  const groups = new Map<string, { -readonly [K in keyof FailureGroup]: FailureGroup[K] } & { examples: string[] }>();
  for (const row of rows) {
    if (row.taskStatus !== 'failed') continue;
    const errorCode = row.errorCode ?? 'unknown';
    const reason = failureReason(row);
    const id = `${errorCode}\u0000${reason}`;
    let group = groups.get(id);
    if (!group) {
      group = { errorCode, reason, count: 0, examples: [], message: row.resultMessage.slice(0, 300) };
      groups.set(id, group);
    }
    group.count++;
    if (group.examples.length < examples) group.examples.push(`s3://${row.bucket}/${row.key}`);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** Human lines: "  1,204  PermanentFailure  decode  e.g. s3://b/a.jpg, s3://b/c.jpg". */
export function failureLines(groups: readonly FailureGroup[]): string[] {
  const width = Math.max(0, ...groups.map((g) => g.count.toLocaleString('en-US').length));
  return groups.map((g) => {
    const count = g.count.toLocaleString('en-US').padStart(width);
    return `  ${count}  ${g.errorCode}  ${g.reason}  e.g. ${g.examples.join(', ')}`;
  });
}
