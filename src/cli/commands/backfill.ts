/**
 * `lambda-ml backfill [s3://bucket/prefix]` (docs/backfill.md): an S3 Batch Operations job that runs a bucket's
 * existing images through the deployed alias, or with `--local` the same tasks through the packaged handler here.
 */
import { parseOnFailure } from '../../config/on-failure.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig, parseJson } from '../../config/load.js';
import { costTable } from '../../cost/format.js';
import { formatBytes } from '../../lib/bytes.js';
import { inputError, type ExitCode } from '../../lib/errors.js';
import { MANIFEST_FILE } from '../../pipeline/package.js';
import { parseS3Url } from '../../lib/s3-url.js';
import type { BackfillSource } from '../../pipeline/backfill.js';
import type { Config, Manifest } from '../../types.js';
import type { BackfillFlags } from './backfill-flags.js';
import { urlProblem } from '../flag-values.js';
import { makeColors, showProgress, type Io } from '../io.js';
import { checkAwsEnv, clientsFor } from '../remote-options.js';

export type { BackfillFlags } from './backfill-flags.js';

/** A measured warm p50 saved beside the artifacts (docs/backfill.md, "What it costs"), or null. */
export const TIMING_FILE = 'invoke-timing.json';

async function readMeasured(out: string): Promise<{ p50Ms: number } | null> {
  const path = join(out, TIMING_FILE);
  if (!existsSync(path)) return null;
  const data = parseJson(await readFile(path, 'utf8'), path) as { warm?: { p50Ms?: unknown } };
  const p50 = data.warm?.p50Ms;
  return typeof p50 === 'number' && p50 > 0 ? { p50Ms: p50 } : null;
}

/** The source: the positional URL, else the trigger's bucket and prefix. */
function sourceOf(config: Config, url: string | undefined, suffixes: string[] | undefined) {
  let bucket: string;
  let prefix: string;
  if (url !== undefined) {
    if (!url.startsWith('s3://')) {
      const hint = 'e.g. lambda-ml backfill s3://my-assets/images/';
      throw inputError(`backfill's source "${url}" is not an s3:// URL`, hint);
    }
    ({ bucket, key: prefix } = parseS3Url(url, "backfill's source"));
  } else if (config.trigger) {
    ({ bucket, prefix } = config.trigger);
  } else {
    throw inputError(
      'backfill needs a source: s3://bucket/prefix, or a trigger in config',
      'e.g. lambda-ml backfill s3://my-assets/images/',
    );
  }
  const chosen = suffixes ?? config.trigger?.suffixes ?? [];
  for (const suffix of chosen) {
    if (suffix.length === 0 || suffix.length > 1024) {
      throw inputError(`--suffix "${suffix.slice(0, 40)}" must be 1 to 1,024 characters`, 'e.g. --suffix .jpg');
    }
  }
  return { bucket, prefix, suffixes: chosen };
}

/** --from-failures reads the S3 on-failure destination that deploy configured (trigger.onFailure). */
function failuresOf(config: Config): { bucket: string; functionName: string } {
  const value = config.trigger?.onFailure ?? null;
  const target = value === null ? null : parseOnFailure(value);
  if (target === null || !('kind' in target)) {
    throw inputError(
      '--from-failures needs trigger.onFailure set to an s3://bucket destination',
      'set "trigger": { "onFailure": "s3://my-failures-bucket" } and deploy, so failed events are kept there',
    );
  }
  if (target.kind !== 's3') {
    throw inputError(
      `--from-failures reads an S3 destination; trigger.onFailure is the SQS queue ${target.queue}`,
      'redrive the queue with SQS (or use an s3://bucket destination for lambda-ml to read)',
    );
  }
  return { bucket: target.bucket, functionName: config.function.name };
}

async function readManifest(out: string): Promise<Manifest> {
  const path = join(out, MANIFEST_FILE);
  if (!existsSync(path)) {
    throw inputError(
      `${path} not found: backfill needs the package deploy shipped (its models' sha256)`,
      'run lambda-ml deploy (or lambda-ml package) first, or pass --out',
    );
  }
  return parseJson(await readFile(path, 'utf8'), path) as Manifest;
}

/** The S3 Control endpoint: AWS_ENDPOINT_URL_S3_CONTROL, else --endpoint-url / AWS_ENDPOINT_URL. */
function controlEndpoint(flags: BackfillFlags, env: Io['env']): string | null {
  const specific = env.AWS_ENDPOINT_URL_S3_CONTROL;
  if (specific) {
    const problem = urlProblem(specific);
    if (problem) {
      const message = `AWS_ENDPOINT_URL_S3_CONTROL ${problem} (got "${specific}")`;
      throw inputError(message, 'set it to an http(s) URL, or unset it');
    }
    return specific;
  }
  return flags.endpointUrl ?? env.AWS_ENDPOINT_URL ?? null;
}

export async function backfillCommand(io: Io, url: string | undefined, flags: BackfillFlags): Promise<ExitCode> {
  const config = await loadConfig(io.cwd, flags.config);
  const out = flags.out === undefined ? join(config.rootDir, '.lambda-ml') : resolve(io.cwd, flags.out);
  const source = { ...sourceOf(config, url, flags.suffix), failures: flags.fromFailures ? failuresOf(config) : null };
  if (flags.local) {
    if (flags.dryRun || flags.wait || flags.confirm || flags.role || flags.priority !== undefined) {
      throw inputError(
        '--local runs the tasks here: --dry-run, --wait, --confirm, --role and --priority are for a job',
        'drop them, or drop --local',
      );
    }
    const { runLocalBackfillCommand } = await import('./backfill-local.js');
    return runLocalBackfillCommand(io, flags, { config, out, source, manifest: await readManifest(out) });
  }
  if (flags.endpoint) throw inputError('--endpoint is the S3 endpoint of --local', 'use --endpoint-url for a job');
  if (flags.concurrency !== undefined) {
    throw inputError(
      "--concurrency is for --local; a job follows the function's reserved concurrency",
      'set backfill.maxConcurrency in config',
    );
  }
  const { jobRole, reportBucket, runBackfill } = await import('../../pipeline/backfill.js');
  jobRole(config, flags.role); // before any AWS call: a missing role or bucket is a config error
  reportBucket(config);
  const manifest = await readManifest(out);
  checkAwsEnv(config, flags, io.env);
  const endpoint = controlEndpoint(flags, io.env);
  const { lambda, s3 } = await clientsFor(config, flags, io);
  const { makeS3ControlClient } = await import('../../backfill/s3control-client.js');
  const region = await lambda.config.region();
  const control = makeS3ControlClient({ region, endpoint, credentials: lambda.config.credentials });
  const pollMs = Number(io.env.LAMBDA_ML_BACKFILL_POLL_MS) || undefined;
  const human = !flags.json && !flags.quiet;
  try {
    const result = await runBackfill({
      config,
      manifest,
      out,
      source,
      manifestKind: flags.manifest ?? 'generator',
      alias: flags.alias ?? (manifest.function.alias || 'live'),
      role: flags.role,
      priority: flags.priority,
      report: flags.report,
      confirm: flags.confirm,
      force: flags.force,
      dryRun: flags.dryRun,
      wait: flags.wait,
      lambda,
      s3,
      control,
      measured: await readMeasured(out),
      pollMs,
      note: (line) => {
        if (human) io.stderr.write(`${line}\n`);
      },
      progress: human ? { isTty: showProgress(io, flags), write: (text) => io.stderr.write(text) } : undefined,
    });
    if (flags.json) {
      const { request, objects, concurrency, time, cost, jobId, snapshot, failures, dryRun, exitCode } = result;
      const body = {
        schemaVersion: 1,
        ok: exitCode === 0,
        dryRun,
        request,
        objects,
        concurrency,
        time,
        cost,
        jobId,
        job: snapshot,
        failures,
      };
      io.stdout.write(JSON.stringify(body, null, 2) + '\n');
    } else if (!flags.quiet) {
      io.stdout.write(humanLines(io, flags, result, source).join('\n') + '\n');
    }
    return result.exitCode;
  } finally {
    control.destroy();
  }
}

type Result = Awaited<ReturnType<typeof import('../../pipeline/backfill.js').runBackfill>>;

function humanLines(io: Io, flags: BackfillFlags, r: Result, source: BackfillSource): string[] {
  const c = makeColors(io, flags);
  const where = `s3://${source.bucket}/${source.prefix}`;
  const filter = source.suffixes.length ? ` (${source.suffixes.join(' ')})` : '';
  const count = `${r.objects.matched.toLocaleString('en-US')} object(s)`;
  const objects =
    `${count} of ${r.objects.listed.toLocaleString('en-US')} listed under ${where}${filter}, ` +
    formatBytes(r.objects.bytes);
  const total = (i: number) => `$${r.cost[i].totalUsd.toFixed(2)}`;
  const costLine = `estimated cost ${total(0)} on x86_64, ${total(1)} on arm64 (est.); ${r.time.label}`;
  if (r.dryRun) {
    return [
      c.bold('Dry run: the CreateJob request backfill would send'),
      JSON.stringify(r.request, null, 2),
      '',
      `objects  ${objects}`,
      `time     ${r.time.label}`,
      '',
      ...costTable(r.cost),
      '',
      c.dim('No job was created. Run without --dry-run to create it.'),
    ];
  }
  const lines = [
    `${c.green('✓')} job ${r.jobId} for ${where}${filter}: ${count}`,
    `  ${costLine}`,
    c.dim('  the same command again returns this job (same ClientRequestToken); --wait follows it'),
  ];
  if (!r.snapshot) return lines;
  const s = r.snapshot;
  lines.push(
    `job ${s.jobId} ${s.status}: ${s.succeeded.toLocaleString('en-US')} succeeded, ` +
      `${s.failed.toLocaleString('en-US')} failed of ${(s.total ?? 0).toLocaleString('en-US')}`,
  );
  for (const f of s.failureReasons) lines.push(`  ${f.code}: ${f.reason}`);
  if (s.status === 'Suspended') lines.push('  the job waits for confirmation: UpdateJobStatus Ready, or the console');
  if (r.failureLines.length) lines.push('failures by reason:', ...r.failureLines);
  return lines;
}
