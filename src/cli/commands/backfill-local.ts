/**
 * `lambda-ml backfill --local` (docs/backfill.md, "--local"): the same listing and filters as a job, each task run
 * through the packaged handler in `--concurrency` Lambda-like child processes against an S3 endpoint, with the same
 * progress display and a completion report in Batch Operations' format under `<out>/backfill/reports/`.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { failureLines, groupFailures } from '../../backfill/failures.js';
import { startFunctionPool } from '../../backfill/local-pool.js';
import { runLocalBackfill } from '../../backfill/local-backfill.js';
import { rowOf } from '../../backfill/local-report.js';
import { emptyListingStats } from '../../backfill/manifest-list.js';
import { sourceObjects } from '../../pipeline/backfill.js';
import { modelsHash } from '../../backfill/models-hash.js';
import { createProgressPrinter } from '../../backfill/progress.js';
import { backfillUserArguments } from '../../backfill/user-arguments.js';
import type { BackfillFlags } from './backfill-flags.js';
import { showProgress, type Io } from '../io.js';
import { checkCredentials, chooseEndpoint, probeEndpoint } from '../../invoke/s3-endpoint.js';
import { toAwsError } from '../../remote/aws-errors.js';
import { stageToEndpoint } from '../../invoke/stage-local.js';
import { EXIT, type ExitCode } from '../../lib/errors.js';
import { s3EndpointConfig } from '../../lib/s3-endpoint.js';
import type { Config, Manifest } from '../../types.js';
import type { BackfillSource } from '../../pipeline/backfill.js';

export interface LocalInputs {
  readonly config: Config;
  readonly out: string;
  readonly source: BackfillSource;
  readonly manifest: Manifest;
}

export async function runLocalBackfillCommand(io: Io, flags: BackfillFlags, inputs: LocalInputs): Promise<ExitCode> {
  const { manifest, source, out } = inputs;
  const endpoint = chooseEndpoint(flags.endpoint, io.env);
  await checkCredentials(io.env);
  if (endpoint) await probeEndpoint(endpoint);
  const region = flags.region ?? manifest.region ?? io.env.AWS_REGION ?? 'us-east-1';
  const s3 = new S3Client({
    region,
    ...s3EndpointConfig(endpoint),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const human = !flags.json && !flags.quiet;
  const say = (line: string) => {
    if (human) io.stderr.write(`${line}\n`);
  };
  try {
    if (endpoint) {
      // the function fetches its models from S3: on a local endpoint they are staged first, as deploy uploads them
      const staged = await stageToEndpoint(s3, manifest, out).catch((error) => {
        throw toAwsError(error, `staging the models at ${endpoint}`);
      });
      if (staged.length && flags.verbose) say(`staged ${staged.length} object(s) at ${endpoint}`);
    }
    const size = flags.concurrency ?? availableParallelism();
    const pool = await startFunctionPool({ manifest, outDir: out, size, env: io.env, endpoint });
    const stats = emptyListingStats();
    const printer = human
      ? createProgressPrinter({ isTty: showProgress(io, flags), write: (text) => io.stderr.write(text) })
      : null;
    const started = Date.now();
    let result;
    try {
      const userArguments = backfillUserArguments({
        reclassify: flags.force ? 'all' : 'stale',
        modelsHash: modelsHash(manifest.runtime.models),
      });
      const all = (flags.report ?? inputs.config.backfill?.report) === 'all';
      const scope = all ? 'AllTasks' : 'FailedTasksOnly';
      result = await runLocalBackfill({
        pool,
        objects: sourceObjects(s3, source, { stats }),
        userArguments,
        report: { dir: join(out, 'backfill', 'reports'), scope },
        onFinished: (_finished, counts) =>
          printer?.update({
            atMs: Date.now() - started,
            succeeded: counts.succeeded,
            failed: counts.failed,
            total: null,
          }),
      });
    } finally {
      await pool.close();
    }
    printer?.done();
    const { counts, failed, elapsedMs } = result.summary;
    const groups = groupFailures(failed.map(rowOf));
    if (flags.json) {
      io.stdout.write(
        JSON.stringify(
          {
            schemaVersion: 1,
            ok: counts.failed === 0,
            local: true,
            jobId: result.jobId,
            objects: stats,
            counts,
            elapsedMs,
            report: result.report.dir,
            pool: result.pool,
            failures: groups,
          },
          null,
          2,
        ) + '\n',
      );
    } else if (!flags.quiet) {
      const rate = elapsedMs > 0 ? ((counts.succeeded + counts.failed) / (elapsedMs / 1000)).toFixed(1) : '0';
      const lines = [
        `local job ${result.jobId}: ${counts.succeeded} succeeded, ${counts.failed} failed ` +
          `(${counts.retries} retries) in ${(elapsedMs / 1000).toFixed(1)} s, ${rate}/s at concurrency ${size}`,
        `  report ${result.report.dir}`,
      ];
      if (groups.length) lines.push('failures by reason:', ...failureLines(groups));
      io.stdout.write(lines.join('\n') + '\n');
    }
    return counts.failed === 0 ? EXIT.OK : EXIT.OVER_BUDGET;
  } finally {
    s3.destroy();
  }
}
