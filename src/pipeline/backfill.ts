/**
 * `lambda-ml backfill` in the cloud (docs/backfill.md): resolve the alias deploy left, plan the job's concurrency,
 * list (and for `--manifest csv` upload) the objects, build the CreateJob request with its idempotency token, estimate
 * the cost, then create the job and optionally follow it to the end and group its failures by reason.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionConcurrencyCommand,
  PutFunctionConcurrencyCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CreateJobCommandInput, S3ControlClient } from '@aws-sdk/client-s3-control';
import { parseFunctionArn } from '../backfill/arns.js';
import { planConcurrency, type ConcurrencyPlan } from '../backfill/concurrency.js';
import { failureLines, groupFailures, type FailureGroup } from '../backfill/failures.js';
import { createBackfillJob, describeBackfillJob, type JobSnapshot } from '../backfill/job-api.js';
import { buildCreateJobRequest, jobDescription, type JobManifestSource } from '../backfill/job-request.js';
import { emptyListingStats, listBackfillObjects, type ListingStats } from '../backfill/manifest-list.js';
import { listFailedObjects, type FailureSource } from '../backfill/from-failures.js';
import { manifestKey, uploadManifest, writeManifestFile } from '../backfill/manifest-write.js';
import { modelFileShas, modelsHash } from '../backfill/models-hash.js';
import { backfillPrefixes } from '../backfill/policy.js';
import { createProgressPrinter } from '../backfill/progress.js';
import { readCompletionReport } from '../backfill/report-read.js';
import { backfillToken } from '../backfill/request-token.js';
import { backfillUserArguments } from '../backfill/user-arguments.js';
import { waitExitCode, waitForJob } from '../backfill/wait.js';
import { estimateBothArchitectures, type CostEstimate } from '../cost/model.js';
import { DEFAULT_PRICES, type PriceTable } from '../cost/prices.js';
import { imageTime, type ImageTime } from '../cost/timing.js';
import { describeAwsError, isNotFound } from '../remote/aws-errors.js';
import { awsError, configError, LambdaMlError } from '../lib/errors.js';
import type { Config, Manifest } from '../types.js';

/** Where a backfill reads: a bucket, a prefix and the key suffixes kept. */
export interface BackfillSource {
  readonly bucket: string;
  readonly prefix: string;
  readonly suffixes: readonly string[];
  /** --from-failures: the objects named by the on-failure records in this bucket (within bucket/prefix/suffixes). */
  readonly failures?: FailureSource | null;
}

/** The objects a backfill covers: the source's listing, or (--from-failures) what the failure records name. */
export function sourceObjects(s3: S3Client, source: BackfillSource, options: { stats?: ListingStats } = {}) {
  return source.failures
    ? listFailedObjects(s3, source.failures, source, options)
    : listBackfillObjects(s3, source, options);
}

export interface BackfillRunOptions {
  readonly config: Config;
  readonly manifest: Manifest; // the package deploy shipped (models' sha256, memory)
  readonly out: string; // the artifacts folder (the CSV manifest is written there)
  readonly source: BackfillSource;
  readonly manifestKind: 'generator' | 'csv';
  readonly alias: string;
  readonly role?: string | null; // --role (else backfill.role)
  readonly priority?: number;
  readonly report?: 'failed' | 'all';
  readonly confirm?: boolean;
  readonly force?: boolean; // reclassify everything
  readonly dryRun?: boolean;
  readonly wait?: boolean;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly control: S3ControlClient;
  /** A warm p50 measured on one CPU (invoke --local --repeat), or null for the labelled estimate. */
  readonly measured?: { readonly p50Ms: number } | null;
  readonly note?: (line: string) => void; // stderr lines (the concurrency note)
  readonly progress?: { readonly isTty: boolean; readonly write: (text: string) => void };
  readonly pollMs?: number;
}

export interface BackfillRunResult {
  readonly dryRun: boolean;
  readonly request: CreateJobCommandInput;
  readonly objects: ListingStats;
  readonly concurrency: ConcurrencyPlan;
  readonly time: ImageTime;
  readonly cost: readonly (CostEstimate & { timeEstimated?: boolean })[];
  readonly jobId: string | null;
  readonly snapshot: JobSnapshot | null;
  readonly failures: readonly FailureGroup[];
  readonly failureLines: readonly string[];
  readonly exitCode: 0 | 1;
}

/** One AWS call of the run: its error becomes one line naming the step (exit 3). */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof LambdaMlError) throw error;
    const { message, hint } = describeAwsError(error);
    throw awsError(`backfill failed at ${what}: ${message}`, hint, error);
  }
}

/** The job role: --role, else backfill.role; a config error pointing at `policy --backfill` without either. */
export function jobRole(config: Config, flag?: string | null): { arn: string; source: string } {
  if (flag) return { arn: flag, source: '--role' };
  if (config.backfill?.role) return { arn: config.backfill.role, source: 'backfill.role' };
  throw configError(
    'backfill needs a job role for S3 Batch Operations: set backfill.role or pass --role ARN',
    'lambda-ml policy --backfill prints the role to create (its trust policy and permissions)',
  );
}

/** The artifacts bucket: the completion report (and a CSV manifest) go there. */
export function reportBucket(config: Config): string {
  if (config.artifacts.bucket) return config.artifacts.bucket;
  throw configError(
    'backfill writes its completion report to artifacts.bucket, which is not set',
    'set artifacts.bucket (and optionally artifacts.prefix) in lambda-ml.config.json',
  );
}

/** The alias ARN and the version it points at. */
async function resolveAlias(lambda: LambdaClient, functionName: string, alias: string) {
  const out = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })).catch((error) => {
    if (!isNotFound(error)) throw error;
    throw awsError(
      `backfill: alias ${alias} of function ${functionName} does not exist`,
      'run lambda-ml deploy first (it creates the alias the job invokes)',
      error,
    );
  });
  const parts = out.AliasArn ? parseFunctionArn(out.AliasArn) : null;
  if (!out.AliasArn || !out.FunctionVersion || !parts) {
    throw awsError(`backfill: GetAlias returned no alias ARN or version for ${functionName}:${alias}`, 'retry');
  }
  return { aliasArn: out.AliasArn, version: out.FunctionVersion, accountId: parts.account };
}

/** Reads the function's reserved concurrency and the account's unreserved pool; sets it when config asks. */
async function concurrencyFor(o: BackfillRunOptions, functionName: string): Promise<ConcurrencyPlan> {
  const current = await step("GetFunctionConcurrency (the function's reserved concurrency)", () =>
    o.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName })),
  );
  const account = await step("GetAccountSettings (the account's concurrency)", () =>
    o.lambda.send(new GetAccountSettingsCommand({})),
  );
  const plan = planConcurrency({
    reserved: current.ReservedConcurrentExecutions ?? null,
    maxConcurrency: o.config.backfill?.maxConcurrency ?? null,
    unreserved: account.AccountLimit?.UnreservedConcurrentExecutions ?? null,
  });
  if (plan.setReserved !== null && !o.dryRun) {
    const input = { FunctionName: functionName, ReservedConcurrentExecutions: plan.setReserved };
    await step('PutFunctionConcurrency (backfill.maxConcurrency)', () =>
      o.lambda.send(new PutFunctionConcurrencyCommand(input)),
    );
  }
  o.note?.(plan.setReserved !== null && o.dryRun ? `dry run, not applied: ${plan.note}` : plan.note);
  return plan;
}

/** Lists the objects; for `--manifest csv` writes the manifest and (not in a dry run) uploads it. */
async function objectList(
  o: BackfillRunOptions,
  bucket: string,
): Promise<{
  stats: ListingStats;
  manifest: JobManifestSource;
  manifestSha256: string | null;
}> {
  const stats = emptyListingStats();
  const objects = sourceObjects(o.s3, o.source, { stats });
  if (o.manifestKind === 'generator' && !o.source.failures) {
    for await (const _ of objects) {
      /* counted in stats */
    }
    return { stats, manifest: { kind: 'generator' }, manifestSha256: null };
  }
  const dir = join(o.out, 'backfill');
  await mkdir(dir, { recursive: true });
  const file = await writeManifestFile(join(dir, 'manifest.csv'), objects);
  const key = manifestKey(o.config.artifacts.prefix, file.sha256);
  if (o.dryRun) {
    const objectArn = `arn:aws:s3:::${bucket}/${key}`;
    return { stats, manifest: { kind: 'csv', objectArn, etag: file.md5 }, manifestSha256: file.sha256 };
  }
  const uploaded = await uploadManifest(o.s3, file, { bucket, key });
  const manifest = { kind: 'csv', objectArn: uploaded.objectArn, etag: uploaded.etag } as const;
  return { stats, manifest, manifestSha256: file.sha256 };
}

/** The cost of `objects` images (x86_64 and arm64) and the time per image it assumes. */
export function backfillCost(o: {
  readonly manifest: Manifest;
  readonly prices: PriceTable;
  readonly objects: number;
  readonly listed: number;
  readonly manifestKind: 'generator' | 'csv';
  readonly measured?: { readonly p50Ms: number } | null;
}) {
  const memoryMb = o.manifest.function.memoryMb;
  const { models } = o.manifest.runtime;
  const backends = models.map((m) => m.backend ?? o.manifest.runtime.backend);
  const time = imageTime({ memoryMb, models: models.length, measured: o.measured ?? null, backends });
  const inputs = { objects: o.objects, listed: o.listed, memoryMb, msPerImage: time.ms, manifest: o.manifestKind };
  return { time, cost: estimateBothArchitectures(inputs, o.prices) };
}

/** `budget`'s figure (pipeline/backfill-cost.ts). */
export { budgetCost } from './backfill-cost.js';

/** Runs the backfill: everything up to the request, then (unless a dry run) CreateJob and `--wait`. */
export async function runBackfill(o: BackfillRunOptions): Promise<BackfillRunResult> {
  const role = jobRole(o.config, o.role);
  const artifacts = reportBucket(o.config);
  const functionName = o.manifest.function.name;
  const alias = await step(`GetAlias (finding alias ${o.alias} that deploy left)`, () =>
    resolveAlias(o.lambda, functionName, o.alias),
  );
  const concurrency = await concurrencyFor(o, functionName);
  const listed = await objectList(o, artifacts);
  const models = o.manifest.runtime.models;
  const reclassify = o.force ? 'all' : 'stale';
  const userArguments = backfillUserArguments({ reclassify, modelsHash: modelsHash(models) });
  const token = backfillToken({
    ...o.source,
    functionVersion: alias.version,
    modelSha256: modelFileShas(models),
    manifestSha256: listed.manifestSha256,
    userArguments,
  });
  const scope = (o.report ?? o.config.backfill?.report ?? 'failed') === 'all' ? 'AllTasks' : 'FailedTasksOnly';
  const report = { bucket: artifacts, prefix: backfillPrefixes(o.config.artifacts.prefix).reports, scope } as const;
  const request = buildCreateJobRequest({
    accountId: alias.accountId,
    functionArn: alias.aliasArn,
    roleArn: role.arn,
    roleSource: role.source,
    source: o.source,
    manifest: listed.manifest,
    report,
    clientRequestToken: token,
    userArguments,
    confirm: o.confirm ?? false,
    priority: o.priority ?? o.config.backfill?.priority,
    description: jobDescription(o.source, userArguments.models),
  });
  const { time, cost } = backfillCost({
    manifest: o.manifest,
    prices: o.config.cost?.prices ?? DEFAULT_PRICES,
    objects: listed.stats.matched,
    listed: listed.stats.listed,
    manifestKind: o.source.failures ? 'csv' : o.manifestKind,
    measured: o.measured,
  });
  const base = { request, objects: listed.stats, concurrency, time, cost };
  if (o.dryRun) {
    return { ...base, dryRun: true, jobId: null, snapshot: null, failures: [], failureLines: [], exitCode: 0 };
  }
  const jobId = await createBackfillJob(o.control, request);
  if (!o.wait) return { ...base, dryRun: false, jobId, snapshot: null, failures: [], failureLines: [], exitCode: 0 };
  const printer = o.progress ? createProgressPrinter(o.progress) : null;
  const target = { client: o.control, accountId: alias.accountId };
  const snapshot = await waitForJob({
    describe: () => describeBackfillJob(target, jobId),
    onUpdate: (s, atMs) => printer?.update({ atMs, succeeded: s.succeeded, failed: s.failed, total: s.total }),
    pollMs: o.pollMs,
  });
  printer?.done();
  const rows =
    snapshot.failed > 0 || scope === 'AllTasks'
      ? await readCompletionReport(o.s3, { bucket: report.bucket, prefix: report.prefix, jobId })
      : [];
  const failures = groupFailures(rows);
  return {
    ...base,
    dryRun: false,
    jobId,
    snapshot,
    failures,
    failureLines: failureLines(failures),
    exitCode: waitExitCode(snapshot),
  };
}
