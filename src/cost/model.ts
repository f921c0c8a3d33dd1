/**
 * The cost model of `budget` and `backfill --dry-run` (docs/backfill.md, "What it costs"): Lambda duration
 * (GB-seconds at the configured memory × the time per image, billed per 1 ms per invocation) and requests, S3 Batch
 * Operations' per-job and per-object fees (and the manifest generator's listing fee, or the LIST requests of a CSV
 * manifest), and the S3 requests the handler makes per image. Pure: prices and timings come in.
 */
import type { Architecture } from '../types.js';
import type { PriceTable } from './prices.js';

/** The handler's S3 requests per image: HEAD, GET, GetObjectTagging (GET class) and PutObjectTagging (PUT class). */
export const HANDLER_REQUESTS = { get: 3, put: 1 } as const;

export interface CostInputs {
  readonly objects: number; // tasks in the job
  readonly memoryMb: number;
  readonly msPerImage: number; // at this memory (timing.ts)
  readonly architecture: Architecture;
  /** How the object list is made: the manifest generator lists `listed` objects; a CSV costs LIST requests. */
  readonly manifest?: 'generator' | 'csv' | 'none';
  readonly listed?: number; // objects under the prefix (default: `objects`)
  readonly jobs?: number; // default 1
  readonly requestsPerImage?: { readonly get: number; readonly put: number };
  /** Billed init time of the execution environments the job starts (Lambda bills INIT for managed runtimes). */
  readonly coldStarts?: { readonly count: number; readonly initMs: number } | null;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitUsd: number;
  readonly usd: number;
}

export interface CostEstimate {
  readonly architecture: Architecture;
  readonly objects: number;
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
  readonly perImageUsd: number;
}

const line = (item: string, quantity: number, unit: string, unitUsd: number): CostLine => ({
  item,
  quantity,
  unit,
  unitUsd,
  usd: quantity * unitUsd,
});

/** The estimate of one job. Quantities are exact; amounts are unrounded dollars (reporters round). */
export function estimateCost(inputs: CostInputs, prices: PriceTable): CostEstimate {
  const { objects, memoryMb } = inputs;
  if (!(objects >= 0) || !(memoryMb > 0) || !(inputs.msPerImage >= 0)) {
    throw new Error('estimateCost: objects ≥ 0, memoryMb > 0 and msPerImage ≥ 0 are required');
  }
  const lambda = prices.lambda[inputs.architecture];
  const gb = memoryMb / 1024;
  const billedMs = Math.ceil(inputs.msPerImage); // each invocation is billed up to the next 1 ms
  const gbSeconds = objects * (billedMs / 1000) * gb;
  const jobs = inputs.jobs ?? 1;
  const listed = inputs.listed ?? objects;
  const requests = inputs.requestsPerImage ?? HANDLER_REQUESTS;
  const lines: CostLine[] = [
    line(`Lambda duration (${memoryMb} MB × ${billedMs} ms)`, gbSeconds, 'GB-s', lambda.perGbSecond),
    line('Lambda requests', objects / 1e6, 'million', lambda.perMillionRequests),
  ];
  if (inputs.coldStarts && inputs.coldStarts.count > 0) {
    const initGbS = inputs.coldStarts.count * (Math.ceil(inputs.coldStarts.initMs) / 1000) * gb;
    lines.push(line(`Lambda init (${inputs.coldStarts.count} cold starts)`, initGbS, 'GB-s', lambda.perGbSecond));
  }
  const batch = prices.batchOperations;
  lines.push(line('Batch Operations jobs', jobs, 'job', batch.perJob));
  lines.push(line('Batch Operations object operations', objects / 1e6, 'million', batch.perMillionObjectOperations));
  const s3 = prices.s3Requests;
  const manifest = inputs.manifest ?? 'generator';
  if (manifest === 'generator') {
    const fee = batch.perMillionObjectsListed;
    lines.push(line('Batch Operations manifest generator', listed / 1e6, 'million listed', fee));
  } else if (manifest === 'csv') {
    lines.push(line('S3 LIST (CSV manifest)', Math.ceil(listed / 1000) / 1000, 'thousand', s3.perThousandList));
  }
  const gets = (objects * requests.get) / 1000;
  const puts = (objects * requests.put) / 1000;
  lines.push(line(`S3 GET/HEAD/GetObjectTagging (${requests.get} per image)`, gets, 'thousand', s3.perThousandGet));
  lines.push(line(`S3 PutObjectTagging (${requests.put} per image)`, puts, 'thousand', s3.perThousandPut));
  const totalUsd = lines.reduce((sum, l) => sum + l.usd, 0);
  const perImageUsd = objects > 0 ? totalUsd / objects : 0;
  return { architecture: inputs.architecture, objects, lines, totalUsd, perImageUsd };
}

/** The cost of 1,000,000 images in one job, as `budget` prints it. */
export function costPerMillion(
  inputs: Omit<CostInputs, 'objects' | 'listed' | 'jobs'>,
  prices: PriceTable,
): CostEstimate {
  return estimateCost({ ...inputs, objects: 1_000_000, jobs: 1 }, prices);
}

/** x86_64 and arm64 side by side; arm64 is labelled estimated when the time per image was measured on x86_64. */
export function estimateBothArchitectures(
  inputs: Omit<CostInputs, 'architecture'>,
  prices: PriceTable,
  measuredOn: Architecture = 'x86_64',
) {
  return (['x86_64', 'arm64'] as const).map((architecture) => ({
    ...estimateCost({ ...inputs, architecture }, prices),
    timeEstimated: architecture !== measuredOn,
  }));
}
