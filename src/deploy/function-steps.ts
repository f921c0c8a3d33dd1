/** The Lambda calls of a deploy: create or update code, update configuration, wait, publish, move the alias. */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type AliasConfiguration,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { readFile } from 'node:fs/promises';
import { inputError } from '../lib/errors.js';
import type { DeployContext } from './context.js';
import { architectureDiffers, configChanges, matchesDesired, type DesiredFunction } from './desired.js';

/** Where the code comes from: the zip itself (≤ 50 MiB) or an S3 object. */
export type CodeSource =
  | { readonly kind: 'zip'; readonly file: string; readonly bytes: number }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string };

const codeParams = (code: CodeSource) =>
  code.kind === 'zip' ? { ZipFile: `<${code.bytes} bytes>` } : { S3Bucket: code.bucket, S3Key: code.key };
const codeInput = async (code: CodeSource) =>
  code.kind === 'zip' ? { ZipFile: await readFile(code.file) } : { S3Bucket: code.bucket, S3Key: code.key };

/** Waits with the SDK waiter (its GetFunction polls are not listed as calls). */
async function waitFor(ctx: DeployContext, kind: 'active' | 'updated', name: string): Promise<void> {
  const op = kind === 'active' ? 'waitUntilFunctionActiveV2' : 'waitUntilFunctionUpdatedV2';
  await ctx.read(
    op,
    { FunctionName: name },
    async () => {
      if (ctx.dryRun) return;
      const config = {
        client: ctx.lambda,
        minDelay: ctx.wait.minDelay,
        maxDelay: ctx.wait.maxDelay,
        maxWaitTime: ctx.wait.maxWaitTime,
      };
      try {
        await (kind === 'active' ? waitUntilFunctionActiveV2 : waitUntilFunctionUpdatedV2)(config, {
          FunctionName: name,
        });
      } catch (error) {
        // the waiter's error is a JSON dump of its last poll: keep the reason Lambda gave
        const reason = /"(?:StateReason|LastUpdateStatusReason)":"([^"]*)"/.exec((error as Error).message)?.[1];
        throw Object.assign(
          new Error(reason ? `the function did not become ready: ${reason}` : (error as Error).message),
          { name: (error as Error).name, cause: error },
        );
      }
    },
    () => undefined,
  );
}

/** CreateFunction (not published: the version comes with PublishVersion), then wait until Active. */
export async function createFunction(
  ctx: DeployContext,
  desired: DesiredFunction,
  code: CodeSource,
  accountArn: string,
): Promise<FunctionConfiguration> {
  if (!desired.role)
    throw inputError(
      `function ${desired.name} does not exist and function.role is not set`,
      'set function.role to the ARN of the execution role (see `lambda-ml policy` for what it needs)',
    );
  if (!desired.handler)
    throw inputError(
      `function ${desired.name} does not exist and function.handler is not set`,
      'set function.handler, e.g. "app.handler" for app.py',
    );
  const base = {
    FunctionName: desired.name,
    Runtime: desired.runtime as FunctionConfiguration['Runtime'],
    Role: desired.role,
    Handler: desired.handler,
    MemorySize: desired.memoryMb,
    Timeout: desired.timeoutS,
    EphemeralStorage: { Size: desired.ephemeralStorageMb },
    Architectures: [desired.architecture],
    Layers: [...desired.layers],
    Environment: { Variables: { ...desired.environment } },
    PackageType: 'Zip' as const,
    Publish: false,
  };
  const created = await ctx.write(
    'CreateFunction',
    { ...base, Code: codeParams(code) },
    async () => ctx.lambda.send(new CreateFunctionCommand({ ...base, Code: await codeInput(code) })),
    () =>
      ({
        FunctionName: desired.name,
        FunctionArn: accountArn,
        CodeSha256: desired.codeSha256,
        Version: '$LATEST',
      }) as FunctionConfiguration,
  );
  await waitFor(ctx, 'active', desired.name);
  return created;
}

/** UpdateFunctionCode when the sha256 or the architecture differs; returns whether it wrote. */
export async function updateCode(
  ctx: DeployContext,
  current: FunctionConfiguration,
  desired: DesiredFunction,
  code: CodeSource,
): Promise<boolean> {
  if (current.CodeSha256 === desired.codeSha256 && !architectureDiffers(current, desired)) return false;
  const base = { FunctionName: desired.name, Architectures: [desired.architecture] };
  await ctx.write(
    'UpdateFunctionCode',
    { ...base, ...codeParams(code), CodeSha256: desired.codeSha256 },
    async () => ctx.lambda.send(new UpdateFunctionCodeCommand({ ...base, ...(await codeInput(code)) })),
    () => ({}),
  );
  await waitFor(ctx, 'updated', desired.name);
  return true;
}

/** UpdateFunctionConfiguration with only what differs; returns whether it wrote. */
export async function updateConfiguration(
  ctx: DeployContext,
  current: FunctionConfiguration,
  desired: DesiredFunction,
): Promise<boolean> {
  const changes = configChanges(current, desired);
  if (Object.keys(changes).length === 0) return false;
  const input = { FunctionName: desired.name, ...changes };
  await ctx.write(
    'UpdateFunctionConfiguration',
    input,
    () =>
      ctx.lambda.send(
        new UpdateFunctionConfigurationCommand(
          input as ConstructorParameters<typeof UpdateFunctionConfigurationCommand>[0],
        ),
      ),
    () => ({}),
  );
  await waitFor(ctx, 'updated', desired.name);
  return true;
}

/**
 * Publishes a version and points the alias at it, when anything changed or the alias is missing or stale
 * (e.g. a previous deploy failed after updating $LATEST). Returns the version the alias ends on.
 */
export async function publishAndAlias(
  ctx: DeployContext,
  desired: DesiredFunction,
  alias: string,
  aliasBefore: AliasConfiguration | null,
  wroteFunction: boolean,
): Promise<{ version: string; moved: boolean }> {
  if (!wroteFunction && aliasBefore?.FunctionVersion) {
    const aliased = await ctx.read(
      'GetFunctionConfiguration',
      { FunctionName: desired.name, Qualifier: aliasBefore.FunctionVersion },
      () =>
        ctx.lambda.send(
          new GetFunctionConfigurationCommand({ FunctionName: desired.name, Qualifier: aliasBefore.FunctionVersion }),
        ),
    );
    if (matchesDesired(aliased, desired)) return { version: aliasBefore.FunctionVersion, moved: false };
  }
  const published = await ctx.write(
    'PublishVersion',
    { FunctionName: desired.name, CodeSha256: desired.codeSha256 },
    // CodeSha256 makes Lambda refuse to publish if someone changed the code meanwhile
    () =>
      ctx.lambda.send(
        new PublishVersionCommand({
          FunctionName: desired.name,
          CodeSha256: desired.codeSha256,
          Description: `lambda-ml ${desired.codeSha256}`,
        }),
      ),
    () =>
      ({
        Version: aliasBefore?.FunctionVersion ? `${Number(aliasBefore.FunctionVersion) + 1}` : '1',
      }) as FunctionConfiguration,
  );
  const version = published.Version!;
  if (aliasBefore?.FunctionVersion === version) return { version, moved: false };
  const input = { FunctionName: desired.name, Name: alias, FunctionVersion: version };
  if (aliasBefore) {
    await ctx.write(
      'UpdateAlias',
      input,
      () => ctx.lambda.send(new UpdateAliasCommand(input)),
      () => ({}),
    );
  } else {
    await ctx.write(
      'CreateAlias',
      input,
      () => ctx.lambda.send(new CreateAliasCommand({ ...input, Description: 'moved by lambda-ml deploy' })),
      () => ({}),
    );
  }
  return { version, moved: true };
}
