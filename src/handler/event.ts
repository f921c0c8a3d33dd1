/** Parses the two event shapes the handler accepts: S3 notifications and S3 Batch Operations tasks. */

/** One object to process. */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;
  readonly size: number | null;
  readonly taskId: string | null; // Batch Operations only
}

/** What the handler was invoked with. */
export type ParsedEvent =
  | { readonly kind: 's3'; readonly records: ObjectRef[]; readonly ignored: number }
  | {
      readonly kind: 'batch';
      readonly invocationSchemaVersion: string;
      readonly invocationId: string;
      readonly records: ObjectRef[];
      readonly userArguments: Readonly<Record<string, string>>; // the job's UserArguments (schema 2.0), else {}
    };

export type BatchResultCode = 'Succeeded' | 'PermanentFailure' | 'TemporaryFailure';

/** The response S3 Batch Operations expects from a Lambda. */
export interface BatchResponse {
  readonly invocationSchemaVersion: string;
  readonly treatMissingKeysAs: 'PermanentFailure';
  readonly treatResultAsFinalFailure: false;
  readonly invocationId: string;
  readonly results: { taskId: string; resultCode: BatchResultCode; resultString: string }[];
}

/** S3 URL-encodes keys in events, with `+` for a space (form encoding): "photos/mon+chat+%C3%A9t%C3%A9.jpg". */
export function decodeS3Key(key: string): string {
  const spaced = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced; // malformed escape: S3 never sends one, but a hand-written test event might
  }
}

const versionOf = (v: unknown) => (typeof v === 'string' && v !== '' && v !== 'null' ? v : null);

/** Reads an S3 event or a Batch Operations event (schema 1.0 and 2.0); throws on anything else. */
export function parseEvent(event: unknown): ParsedEvent {
  const e = (event ?? {}) as Record<string, any>;
  if (Array.isArray(e.Records)) {
    const records: ObjectRef[] = [];
    let ignored = 0;
    for (const r of e.Records) {
      const isCreate = typeof r?.eventName !== 'string' || r.eventName.startsWith('ObjectCreated');
      if (!r?.s3?.bucket?.name || typeof r.s3.object?.key !== 'string' || !isCreate) {
        ignored++;
        continue;
      }
      const size = typeof r.s3.object.size === 'number' ? r.s3.object.size : null;
      records.push({
        bucket: r.s3.bucket.name,
        key: decodeS3Key(r.s3.object.key),
        versionId: versionOf(r.s3.object.versionId),
        size,
        taskId: null,
      });
    }
    return { kind: 's3', records, ignored };
  }
  if (typeof e.invocationSchemaVersion === 'string' && Array.isArray(e.tasks)) {
    const records = e.tasks.map((task: Record<string, any>): ObjectRef => {
      // 1.0 gives s3BucketArn (arn:aws:s3:::bucket); 2.0 gives s3Bucket.
      const bucket =
        typeof task.s3Bucket === 'string'
          ? task.s3Bucket
          : String(task.s3BucketArn ?? '').replace(/^arn:[^:]+:s3:::/, '');
      return {
        bucket,
        key: decodeS3Key(String(task.s3Key)),
        versionId: versionOf(task.s3VersionId),
        size: null,
        taskId: String(task.taskId),
      };
    });
    const args = e.job?.userArguments;
    const userArguments =
      args && typeof args === 'object' && !Array.isArray(args)
        ? (Object.fromEntries(
            Object.entries(args as Record<string, unknown>).filter(([, v]) => typeof v === 'string'),
          ) as Record<string, string>)
        : {};
    return {
      kind: 'batch',
      invocationSchemaVersion: e.invocationSchemaVersion,
      invocationId: String(e.invocationId),
      records,
      userArguments,
    };
  }
  throw new Error(
    'unsupported event: expected an S3 notification (Records[]) or an S3 Batch Operations event (tasks[])',
  );
}

/** Builds the Batch Operations response. */
export function batchResponse(
  event: Extract<ParsedEvent, { kind: 'batch' }>,
  results: BatchResponse['results'],
): BatchResponse {
  return {
    invocationSchemaVersion: event.invocationSchemaVersion,
    treatMissingKeysAs: 'PermanentFailure',
    treatResultAsFinalFailure: false,
    invocationId: event.invocationId,
    results,
  };
}
