/**
 * PURE: a record's answer to S3 Batch Operations (docs/handler.md, "Results"). `Succeeded`: tagged, or nothing to
 * do (the tags already hold the current models' results, or the object is gone); `PermanentFailure`: the object is
 * not an image Lambda can classify (not an image, corrupt, too big, unsupported format) or S3 refused for good;
 * `TemporaryFailure`: throttling such as 503 SlowDown, a timeout, the invocation's deadline about to pass, which
 * Batch Operations re-drives. The result string reads `failed (<reason>): <message>`, as the report parser expects
 * (src/backfill/failures.ts).
 */
import type { BatchResultCode } from './event.js';
import type { RecordResult } from './process-record.js';

/** Skips that are a handled task, not a failure. */
export const SUCCEEDED_SKIPS: ReadonlySet<string> = new Set(['current', 'not-found']);
/** Batch Operations keeps at most this much of a result string. */
export const RESULT_STRING_MAX = 1024;

export function batchResult(r: Pick<RecordResult, 'status' | 'reason' | 'message' | 'transient' | 'tags'>): {
  resultCode: BatchResultCode;
  resultString: string;
} {
  const cut = (text: string) => text.slice(0, RESULT_STRING_MAX);
  if (r.status === 'tagged') {
    const tags = (r.tags ?? []).map((t) => `${t.Key}=${t.Value}`).join(', ');
    return { resultCode: 'Succeeded', resultString: cut(`tagged: ${tags}`) };
  }
  const detail = `(${r.reason ?? 'unknown'}): ${r.message ?? ''}`;
  if (r.status === 'skipped' && SUCCEEDED_SKIPS.has(r.reason ?? '')) {
    return { resultCode: 'Succeeded', resultString: cut(`skipped ${detail}`) };
  }
  const resultCode = r.status === 'failed' && r.transient ? 'TemporaryFailure' : 'PermanentFailure';
  return { resultCode, resultString: cut(`failed ${detail}`) };
}
