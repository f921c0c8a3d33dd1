/** `lambda-ml policy [--backfill]`: the function role's least-privilege policy, or the backfill job role's. */
import { loadConfig } from '../../config/load.js';
import { policy } from '../../deploy/index.js';
import { configError, EXIT, type ExitCode } from '../../lib/errors.js';
import type { Config } from '../../types.js';
import type { GlobalOptions, Io } from '../io.js';

export interface PolicyFlags extends GlobalOptions {
  readonly backfill?: boolean;
}

export async function policyCommand(io: Io, flags: PolicyFlags): Promise<ExitCode> {
  const config = await loadConfig(io.cwd, flags.config);
  if (flags.backfill) return backfillPolicies(io, flags, config);
  const document = policy(config);
  const body = flags.json ? { schemaVersion: 1, ok: true, policy: document } : document;
  io.stdout.write(JSON.stringify(body, null, 2) + '\n');
  return EXIT.OK;
}

const accountOf = (arn: string | null | undefined) => /^arn:aws[a-zA-Z-]*:iam::(\d{12}):/.exec(arn ?? '')?.[1] ?? null;

/** The inputs of the backfill policies, from config alone (no AWS call). */
function backfillInputs(config: Config, env: Io['env']) {
  const accountId = accountOf(config.backfill?.role) ?? accountOf(config.function.role);
  if (!accountId) {
    throw configError(
      'policy --backfill needs the AWS account id; neither backfill.role nor function.role names it',
      'set function.role (the execution role ARN) or backfill.role in lambda-ml.config.json',
    );
  }
  if (!config.trigger) {
    throw configError(
      'policy --backfill needs the source bucket: trigger.bucket is not set',
      'set trigger.bucket (the bucket whose images backfill classifies)',
    );
  }
  if (!config.artifacts.bucket) {
    throw configError(
      'policy --backfill needs artifacts.bucket (the manifests and reports go there)',
      'set artifacts.bucket in lambda-ml.config.json',
    );
  }
  const region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '*';
  const alias = config.function.alias || 'live';
  return {
    region,
    accountId,
    functionArn: `arn:aws:lambda:${region}:${accountId}:function:${config.function.name}:${alias}`,
    sourceBucket: config.trigger.bucket,
    artifactsBucket: config.artifacts.bucket,
    artifactsPrefix: config.artifacts.prefix,
    roleArn: config.backfill?.role ?? null,
  };
}

async function backfillPolicies(io: Io, flags: PolicyFlags, config: Config): Promise<ExitCode> {
  const p = await import('../../backfill/policy.js');
  const inputs = backfillInputs(config, io.env);
  if (flags.json) {
    const body = {
      schemaVersion: 1,
      ok: true,
      roleArn: p.backfillRoleArn(inputs),
      trustPolicy: p.backfillTrustPolicy(),
      rolePolicy: p.backfillRolePolicy(inputs),
      callerPolicy: p.backfillCallerPolicy(inputs),
    };
    io.stdout.write(JSON.stringify(body, null, 2) + '\n');
  } else {
    io.stdout.write(p.renderBackfillPolicies(inputs));
  }
  return EXIT.OK;
}
