/**
 * PURE: the CloudWatch embedded-metric-format line the handler logs once per invocation (docs/handler.md,
 * "Metrics"). Lambda sends stdout to CloudWatch Logs, which turns the line into metrics: no PutMetricData call, no
 * extra code for counts and alarms. The format:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import type { RecordResult } from './process-record.js';

export const METRICS_NAMESPACE = 'lambda-ml';
/** A metric's values in one line: the specification allows at most 100. */
const MAX_VALUES = 100;

type Unit = 'Count' | 'Milliseconds';

/** Count metrics, by the record's outcome (`Current`: a Batch Operations task whose tags already held the results). */
export const COUNT_METRICS = ['Tagged', 'Current', 'Skipped', 'Failed'] as const;

/** The metric of one model's inference time. */
export const inferenceMetric = (model: string) => `InferenceMs.${model}`;

/** What a record counts as. */
export function outcomeOf(r: Pick<RecordResult, 'status' | 'reason'>): (typeof COUNT_METRICS)[number] {
  if (r.status === 'tagged') return 'Tagged';
  if (r.status === 'failed') return 'Failed';
  return r.reason === 'current' ? 'Current' : 'Skipped';
}

/** The EMF line for the records of one invocation; `functionName` is the dimension (AWS_LAMBDA_FUNCTION_NAME). */
export function metricsLine(
  results: readonly Pick<RecordResult, 'status' | 'reason' | 'timings'>[],
  options: {
    readonly functionName: string;
    readonly models: readonly string[];
    readonly kind: 's3' | 'batch';
    readonly now?: number;
  },
): Record<string, unknown> {
  const metrics: { Name: string; Unit: Unit }[] = [];
  const values: Record<string, number | number[]> = {};
  for (const name of COUNT_METRICS) {
    metrics.push({ Name: name, Unit: 'Count' });
    values[name] = results.filter((r) => outcomeOf(r) === name).length;
  }
  for (const model of options.models) {
    const ms = results.map((r) => r.timings.infer?.[model]).filter((v): v is number => typeof v === 'number');
    if (ms.length === 0) continue; // a metric with no value is left out, not sent as 0
    const name = inferenceMetric(model);
    metrics.push({ Name: name, Unit: 'Milliseconds' });
    values[name] = ms.length === 1 ? ms[0] : ms.slice(0, MAX_VALUES);
  }
  return {
    _aws: {
      Timestamp: options.now ?? Date.now(),
      CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['FunctionName']], Metrics: metrics }],
    },
    FunctionName: options.functionName || 'unknown',
    msg: 'lambda-ml metrics',
    kind: options.kind,
    records: results.length,
    ...values,
  };
}
