/** `lambda-ml deploy`: uploads, create/update, wait, publish + alias, S3 trigger (docs/design.md §3). */
import {
  GetAliasCommand,
  GetFunctionCommand,
  type AliasConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import type { Manifest } from '../types.js';
import { awsError, inputError, LambdaMlError } from '../lib/errors.js';
import { ZIP_DIRECT_BYTES } from '../lib/limits.js';
import { joinKey, parseS3Url } from '../lib/s3-url.js';
import { makeContext, type DeployCall, type DeployProgress, type WaitOptions } from './context.js';
import { desiredFunction } from './desired.js';
import { describeAwsError, isNotFound } from '../remote/aws-errors.js';
import { createFunction, publishAndAlias, updateCode, updateConfiguration, type CodeSource } from './function-steps.js';
import { checkRuntime, isUpdateBlocked } from './runtime-gate.js';
import { configureOnFailure } from './on-failure.js';
import { configureTrigger } from './trigger.js';
import { DEFAULT_UPLOAD, uploadFile, type UploadItem, type UploadOptions } from './upload.js';

export interface DeployOptions {
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly dryRun?: boolean;
  /** Alias to move (default: the manifest's function.alias, else `live`). */
  readonly alias?: string;
  readonly onProgress?: (event: DeployProgress) => void;
  readonly log?: (line: string) => void;
  /** Account id for ARNs when the function does not exist yet (else taken from the role ARN). */
  readonly accountId?: string;
  /** Code above this goes through S3 (default: the manifest's zipDirect check, else 52,428,800). */
  readonly zipDirectBytes?: number;
  readonly wait?: Partial<WaitOptions>;
  readonly upload?: Partial<UploadOptions>;
  /** The day AWS's runtime deprecation dates are judged on (default: now); tests pin it. */
  readonly now?: Date;
}

/** What deploy did (or, in a dry run, would do). */
export interface Deployment {
  readonly dryRun: boolean;
  readonly functionArn: string;
  readonly version: string | null; // the version the alias points at after deploy
  readonly alias: string;
  readonly aliasArn: string;
  readonly codeSha256: string;
  readonly uploaded: readonly string[]; // s3:// URLs
  readonly skipped: readonly string[];
  readonly calls: readonly DeployCall[];
  readonly changed: boolean; // any write call made (or, dry run, to be made)
  /** One line each: a deprecated runtime, a dry run that could not read AWS. */
  readonly warnings: readonly string[];
}

/** Env vars deploy adds so the handler can find an S3-sideloaded deps.zip (also in lambda-ml.runtime.json). */
export const ENV_DEPS_S3 = 'LAMBDA_ML_DEPS_S3';
export const ENV_DEPS_SHA256 = 'LAMBDA_ML_DEPS_SHA256';

const accountOf = (arn: string | null | undefined) =>
  /^arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(arn ?? '')?.[1] ?? null;

/**
 * The S3 objects deploy puts: deps.zip for sideload-s3, each staged model file, and the code itself when over the
 * direct limit.
 */
function plannedUploads(
  manifest: Manifest,
  outDir: string,
  codeViaS3: boolean,
): { items: UploadItem[]; depsUrl: string | null; code: { bucket: string; key: string } | null } {
  const items: UploadItem[] = [];
  const { bucket, prefix } = manifest.artifactsBucket;
  const fn = manifest.function.name;
  const needBucket = (what: string) => {
    if (!bucket)
      throw inputError(
        `${what} must go to S3 but artifacts.bucket is not set`,
        'set artifacts.bucket (and optionally artifacts.prefix) in lambda-ml.config.json',
      );
    return bucket;
  };
  let depsUrl: string | null = null;
  const deps = manifest.artifacts.deps;
  if (deps && (manifest.plan === 'sideload-s3' || deps.s3)) {
    depsUrl =
      manifest.runtime.sideload?.s3 ??
      deps.s3 ??
      `s3://${needBucket(deps.file)}/${joinKey(prefix, `${fn}/deps-${deps.sha256}.${deps.format ?? 'zip'}`)}`;
    const loc = parseS3Url(depsUrl);
    items.push({
      file: join(outDir, deps.file),
      bucket: loc.bucket,
      key: loc.key,
      bytes: deps.bytes,
      sha256: deps.sha256,
    });
  }
  for (const model of manifest.artifacts.models) {
    if (!model.s3) continue; // bundled in the function zip
    const loc = parseS3Url(model.s3);
    for (const file of model.files) {
      items.push({
        file: join(outDir, model.dir, file.name),
        bucket: loc.bucket,
        key: joinKey(loc.key, file.name),
        bytes: file.bytes,
        sha256: file.sha256,
      });
    }
  }
  let code = null;
  if (codeViaS3) {
    const art = manifest.artifacts.function;
    code = {
      bucket: needBucket(`function.zip (${art.bytes} bytes, over the 50 MiB direct upload limit)`),
      key: joinKey(prefix, `${fn}/${art.sha256}.zip`),
    };
    items.push({
      file: join(outDir, art.file),
      bucket: code.bucket,
      key: code.key,
      bytes: art.bytes,
      sha256: art.sha256,
    });
  }
  return { items, depsUrl, code };
}

/**
 * Deploys a packaged manifest from `outDir`. Throws awsError (exit 3) naming the failed step; the alias stays where it
 * was.
 */
export async function deploy(manifest: Manifest, outDir: string, opts: DeployOptions): Promise<Deployment> {
  const fn = manifest.function;
  const alias = opts.alias ?? (fn.alias || 'live');
  const unattached = manifest.layers.filter((layer) => !layer.arn);
  if (unattached.length > 0) {
    throw inputError(
      `layer ${unattached.map((l) => l.name).join(', ')} has no arn: deploy attaches layers by ARN`,
      'publish it (aws lambda publish-layer-version) and set its "arn" in lambda-ml.config.json',
    );
  }
  const ctx = makeContext(opts);
  const now = opts.now ?? new Date();
  const zipDirect =
    opts.zipDirectBytes ?? manifest.checks.find((check) => check.limit === 'zipDirect')?.max ?? ZIP_DIRECT_BYTES;
  const art = manifest.artifacts.function;
  let aliasBefore: AliasConfiguration | null = null;
  let aliasVersion: string | null = null;
  let aliasMoved = false;
  const uploaded: string[] = [];
  const skipped: string[] = [];
  try {
    const current = await ctx
      .read('GetFunction', { FunctionName: fn.name }, () =>
        ctx.lambda.send(new GetFunctionCommand({ FunctionName: fn.name })),
      )
      .then((answer) => answer.Configuration ?? null)
      .catch((error) => {
        if (isNotFound(error)) return null;
        throw error;
      });
    const warnings: string[] = [];
    if (ctx.offline)
      warnings.push('could not compare with AWS (no credentials found): these are the calls for a new function');
    // Before any write (uploads included): AWS would refuse a runtime past its block dates
    const runtimeNote = checkRuntime(fn.runtime, fn.name, current !== null, now);
    if (runtimeNote) warnings.push(runtimeNote);
    if (current) {
      aliasBefore = await ctx
        .read('GetAlias', { FunctionName: fn.name, Name: alias }, () =>
          ctx.lambda.send(new GetAliasCommand({ FunctionName: fn.name, Name: alias })),
        )
        .catch((error) => {
          if (isNotFound(error)) return null;
          throw error;
        });
      aliasVersion = aliasBefore?.FunctionVersion ?? null;
    }
    const region = await ctx.lambda.config.region();
    const accountId = accountOf(current?.FunctionArn) ?? opts.accountId ?? accountOf(fn.role);
    if (!accountId)
      throw inputError(
        'cannot tell the AWS account id for the function ARN',
        'set function.role to the execution role ARN (it names the account)',
      );
    const functionArn = current?.FunctionArn ?? `arn:aws:lambda:${region}:${accountId}:function:${fn.name}`;

    const codeChanged = !current || current.CodeSha256 !== art.sha256Base64;
    const codeViaS3 = art.bytes > zipDirect;
    const planned = plannedUploads(manifest, outDir, codeViaS3 && codeChanged);
    for (const item of planned.items) {
      const result = await uploadFile(ctx, item, { ...DEFAULT_UPLOAD, ...opts.upload });
      (result === 'uploaded' ? uploaded : skipped).push(`s3://${item.bucket}/${item.key}`);
    }
    const extraEnv: Record<string, string> = {};
    if (planned.depsUrl && manifest.artifacts.deps) {
      extraEnv[ENV_DEPS_S3] = planned.depsUrl;
      extraEnv[ENV_DEPS_SHA256] = manifest.artifacts.deps.sha256;
    }
    const desired = desiredFunction(manifest, extraEnv);
    const code: CodeSource = planned.code
      ? { kind: 's3', ...planned.code }
      : { kind: 'zip', file: join(outDir, art.file), bytes: art.bytes };

    let wrote = false;
    if (!current) {
      await createFunction(ctx, desired, code, functionArn);
      wrote = true;
    } else if (current.Runtime !== desired.runtime && isUpdateBlocked(current.Runtime, now)) {
      // AWS refuses code updates on a blocked runtime but lets the runtime itself change: configuration first
      const configWritten = await updateConfiguration(ctx, current, desired);
      const codeWritten = await updateCode(ctx, current, desired, code);
      wrote = codeWritten || configWritten;
    } else {
      const codeWritten = await updateCode(ctx, current, desired, code);
      const configWritten = await updateConfiguration(ctx, current, desired);
      wrote = codeWritten || configWritten;
    }
    const { version } = await publishAndAlias(ctx, desired, alias, aliasBefore, wrote);
    aliasMoved = version !== aliasVersion;
    aliasVersion = version;
    const aliasArn = `${functionArn}:${alias}`;
    if (manifest.trigger) await configureTrigger(ctx, manifest.trigger, fn.name, alias, aliasArn, accountId);
    if (manifest.trigger) await configureOnFailure(ctx, manifest.trigger, fn.name, alias);
    return {
      dryRun: ctx.dryRun,
      functionArn,
      version,
      alias,
      aliasArn,
      codeSha256: art.sha256Base64,
      uploaded,
      skipped,
      calls: ctx.calls,
      changed: ctx.calls.some((call) => call.write),
      warnings,
    };
  } catch (error) {
    if (error instanceof LambdaMlError && error.code !== 'aws') throw error;
    const { message, hint } =
      error instanceof LambdaMlError ? { message: error.message, hint: error.hint } : describeAwsError(error);
    const live = aliasMoved
      ? `alias ${alias} already points at the new version ${aliasVersion}, but the S3 trigger is not configured`
      : aliasVersion
        ? `the function still runs version ${aliasVersion} (alias ${alias})`
        : `no version is live through alias ${alias} yet`;
    throw awsError(`deploy failed at ${ctx.step}: ${message}; ${live}`, hint, error);
  }
}
