/**
 * createHandler: the Lambda function around processRecord, with every dependency injected (tests pass s3rver, real tfjs
 * and sharp).
 */
import type { RuntimeConfig } from '../types.js';
import type { Tf } from './backend.js';
import { batchResult } from './batch-result.js';
import { beforeDeadline, DeadlineError } from './deadline.js';
import { batchResponse, parseEvent, type BatchResponse } from './event.js';
import type { Sharp } from './image.js';
import { metricsLine } from './metrics.js';
import { modelsHash } from './models-hash.js';
import { getModel, type LoadedModel, type ModelFiles } from './models.js';
import { startBackends, type Backends } from './onnx-start.js';
import type { OrtModule } from './onnx-session.js';
import { processRecord, type RecordResult } from './process-record.js';
import type { RequireFrom } from './require-from.js';
import type { S3Ops } from './s3.js';

/** The subset of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

/** What createHandler needs. */
export interface HandlerDeps {
  readonly config: RuntimeConfig;
  readonly taskRoot: string;
  readonly tmpDir: string;
  readonly tf: Tf;
  readonly sharp: Sharp;
  readonly s3: S3Ops;
  readonly require: RequireFrom; // resolves @tensorflow/tfjs-node for the tensorflow backend
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (line: Record<string, unknown>) => void;
  /** Where the per-invocation EMF metrics line goes (metrics.ts): by default stdout when `log` is, else nowhere. */
  readonly metrics?: ((line: Record<string, unknown>) => void) | null;
  readonly coldStart?: Record<string, unknown>; // bootstrap timings (sideload extract...), logged with the first record
  /** Model fetches started at the beginning of the cold start (models.ts startModelFetches), by model name. */
  readonly prefetched?: ReadonlyMap<string, Promise<ModelFiles>>;
  /** Imports onnxruntime-node for the models on onnx (default: onnx-session.ts loadOnnxRuntime). */
  readonly ort?: () => Promise<OrtModule>;
}

/** What an S3-notification invocation returns. */
export interface S3Summary {
  readonly records: number;
  readonly tagged: number;
  readonly skipped: number;
  readonly failed: number;
  readonly ignored: number;
  readonly results: readonly RecordResult[];
}

export type LambdaHandler = (event: unknown, context?: LambdaContext) => Promise<S3Summary | BatchResponse>;

const defaultLog = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/**
 * When each step of the cold start began and ended, in ms since the process started: the bootstrap's (depsStart,
 * depsEnd), the backend's, and each model's fetch, so the log shows what overlapped.
 */
function coldStartTimeline(
  bootstrap: unknown,
  steps: Record<string, number>,
  models: readonly LoadedModel[],
): Record<string, unknown> {
  const fetched = models.filter((m) => m.timings.fetchStart !== undefined);
  return {
    ...(bootstrap && typeof bootstrap === 'object' ? bootstrap : {}),
    ...steps,
    modelFetchStart: Object.fromEntries(fetched.map((m) => [m.spec.name, m.timings.fetchStart])),
    modelFetchEnd: Object.fromEntries(fetched.map((m) => [m.spec.name, m.timings.fetchEnd])),
  };
}

/** Builds the handler. Backend and models load on the first invocation and stay loaded for warm ones. */
export function createHandler(deps: HandlerDeps): LambdaHandler {
  const log = deps.log ?? defaultLog;
  const emit = deps.metrics !== undefined ? deps.metrics : deps.log ? null : defaultLog;
  const hash = modelsHash(deps.config.models);
  const functionName = (deps.env ?? process.env).AWS_LAMBDA_FUNCTION_NAME ?? 'unknown';
  let init: Promise<{ models: LoadedModel[]; backend: Backends; ms: number }> | null = null;
  let pendingColdStart: Record<string, unknown> | null = { ...deps.coldStart };
  // Each prefetch is used once: a failed initialisation fetches again on the next invocation.
  const prefetched = new Map(deps.prefetched ?? []);
  const timeline: Record<string, number> = {}; // ms since the process started

  const initialise = async () => {
    const t0 = performance.now();
    timeline.backendStart = Math.round(t0);
    const backend = await startBackends(deps);
    timeline.backendEnd = Math.round(performance.now());
    for (const warning of backend.warnings) log({ level: 'warn', msg: warning });
    const get = (bucket: string, key: string) => deps.s3.get(bucket, key, null);
    const getStream = deps.s3.getStream?.bind(deps.s3);
    const opts = { taskRoot: deps.taskRoot, tmpDir: deps.tmpDir, get, getStream, env: deps.env };
    const models: LoadedModel[] = [];
    // One at a time: loading converts weights to float32, and peak memory matters more than a few ms. Their
    // downloads all started with the cold start (prefetched), so they overlap the deps extraction and the backend.
    for (const spec of deps.config.models) {
      const files = prefetched.get(spec.name);
      prefetched.delete(spec.name);
      models.push(await getModel(backend.tf, spec, { ...opts, prefetched: files, onnx: backend.onnx }));
    }
    timeline.modelsLoaded = Math.round(performance.now());
    return { models, backend, ms: Math.round(performance.now() - t0) };
  };

  return async (event, context) => {
    const parsed = parseEvent(event);
    if (!init) {
      init = initialise();
      init.catch(() => {
        init = null;
      });
    }
    const { models, backend, ms } = await init;
    const results: RecordResult[] = [];
    // Batch Operations' reclassify 'stale' (the default): objects whose tags hold these models' results are left alone.
    const skipCurrent = parsed.kind === 'batch' && parsed.userArguments.reclassify !== 'all';
    const recordDeps = {
      config: deps.config,
      tf: backend.tf,
      sharp: deps.sharp,
      s3: deps.s3,
      models,
      modelsHash: hash,
      skipCurrent,
    };
    const remaining =
      typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    const late = (ref: (typeof parsed.records)[number], error: unknown): RecordResult => {
      if (!(error instanceof DeadlineError)) throw error;
      const { bucket, key, versionId } = ref;
      const { message } = error;
      return { bucket, key, versionId, status: 'failed', reason: 'deadline', message, transient: true, timings: {} };
    };
    for (const ref of parsed.records) {
      const result = await beforeDeadline(() => processRecord(ref, recordDeps), remaining).catch((e) => late(ref, e));
      const line: Record<string, unknown> = {
        level: result.status === 'failed' ? 'error' : 'info',
        msg: 'lambda-ml record',
        ...result,
      };
      if (pendingColdStart) {
        line.coldStart = {
          ...pendingColdStart,
          backend: backend.active,
          backends: backend.byModel,
          ...(backend.onnx ? { onnxThreads: backend.onnx.threads } : {}),
          backendInit: backend.ms,
          init: ms,
          modelFetch: Object.fromEntries(models.map((m) => [m.spec.name, m.timings.fetch])),
          modelLoad: Object.fromEntries(models.map((m) => [m.spec.name, m.timings.load])),
          timeline: coldStartTimeline(pendingColdStart.timeline, timeline, models),
        };
        pendingColdStart = null;
      }
      log(line);
      results.push(result);
    }
    emit?.(metricsLine(results, { functionName, models: models.map((m) => m.spec.name), kind: parsed.kind }));
    if (parsed.kind === 'batch') {
      const answers = results.map((r, i) => ({ taskId: parsed.records[i].taskId ?? String(i), ...batchResult(r) }));
      return batchResponse(parsed, answers);
    }
    const failed = results.filter((r) => r.status === 'failed');
    const summary: S3Summary = {
      records: results.length,
      tagged: results.filter((r) => r.status === 'tagged').length,
      skipped: results.filter((r) => r.status === 'skipped').length,
      failed: failed.length,
      ignored: parsed.ignored,
      results,
    };
    if (failed.length > 0) {
      // Every other record was still processed; failing the invocation makes Lambda retry the event
      // (tagging is idempotent, so the records that succeeded are simply tagged again).
      const error = new Error(
        `${failed.length} of ${results.length} records ` +
          `failed: ${failed.map((r) => `s3://${r.bucket}/${r.key}: ${r.reason}: ${r.message}`).join('; ')}`,
      );
      (error as Error & { summary?: S3Summary }).summary = summary;
      throw error;
    }
    return summary;
  };
}
