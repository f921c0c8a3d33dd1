/**
 * The S3 trigger: permission for s3.amazonaws.com on the alias, and our entries merged into the bucket's notifications.
 */
import { AddPermissionCommand, GetPolicyCommand } from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type LambdaFunctionConfiguration,
  type NotificationConfiguration,
} from '@aws-sdk/client-s3';
import type { Manifest } from '../types.js';
import type { DeployContext } from './context.js';
import { errorName, isNotFound } from '../remote/aws-errors.js';

type Trigger = NonNullable<Manifest['trigger']>;

/** Deterministic statement id, one per bucket (Sid allows letters, digits, '-' and '_'). */
export const statementId = (bucket: string) => `lambda-ml-s3-${bucket.replace(/[^a-zA-Z0-9_-]/g, '_')}`;

/**
 * Our notification Ids: `lambda-ml-<function>`, and `lambda-ml-<function>:<suffix>` when there are several suffixes.
 */
export const notificationId = (functionName: string) => `lambda-ml-${functionName}`;
const isOurs = (id: string | undefined, functionName: string) =>
  id === notificationId(functionName) || Boolean(id?.startsWith(`${notificationId(functionName)}:`));

/** Our entries: S3 filters allow one suffix rule, so one entry per suffix. */
export function triggerConfigurations(
  trigger: Trigger,
  functionName: string,
  targetArn: string,
): LambdaFunctionConfiguration[] {
  const suffixes = trigger.suffixes.length > 0 ? trigger.suffixes : [null];
  return suffixes.map((suffix) => {
    const rules = [
      ...(trigger.prefix ? [{ Name: 'prefix' as const, Value: trigger.prefix }] : []),
      ...(suffix ? [{ Name: 'suffix' as const, Value: suffix }] : []),
    ];
    return {
      Id: suffixes.length > 1 && suffix ? `${notificationId(functionName)}:${suffix}` : notificationId(functionName),
      LambdaFunctionArn: targetArn,
      Events: ['s3:ObjectCreated:*'],
      ...(rules.length > 0 ? { Filter: { Key: { FilterRules: rules } } } : {}),
    };
  });
}

/** Canonical form of one entry, for comparing what S3 returns (it may change the case of rule names) with ours. */
const canonical = (config: LambdaFunctionConfiguration) =>
  JSON.stringify({
    id: config.Id,
    arn: config.LambdaFunctionArn,
    events: [...(config.Events ?? [])].sort(),
    rules: (config.Filter?.Key?.FilterRules ?? [])
      .map((rule) => `${String(rule.Name).toLowerCase()}=${rule.Value}`)
      .sort(),
  });

/** Keeps every other entry (queues, topics, EventBridge, other functions) and replaces only ours. */
export function mergeNotifications(
  existing: NotificationConfiguration,
  ours: readonly LambdaFunctionConfiguration[],
  functionName: string,
): { merged: NotificationConfiguration; changed: boolean } {
  const before = existing.LambdaFunctionConfigurations ?? [];
  const others = before.filter((config) => !isOurs(config.Id, functionName));
  const mine = before
    .filter((config) => isOurs(config.Id, functionName))
    .map(canonical)
    .sort();
  const changed = JSON.stringify(mine) !== JSON.stringify(ours.map(canonical).sort());
  const merged: NotificationConfiguration = {
    ...(existing.TopicConfigurations?.length ? { TopicConfigurations: existing.TopicConfigurations } : {}),
    ...(existing.QueueConfigurations?.length ? { QueueConfigurations: existing.QueueConfigurations } : {}),
    LambdaFunctionConfigurations: [...others, ...ours],
    ...(existing.EventBridgeConfiguration ? { EventBridgeConfiguration: existing.EventBridgeConfiguration } : {}),
  };
  return { merged, changed };
}

/** AddPermission (skipped when our statement is in the alias's policy), then the merged bucket notification. */
export async function configureTrigger(
  ctx: DeployContext,
  trigger: Trigger,
  functionName: string,
  alias: string,
  aliasArn: string,
  accountId: string,
): Promise<{ permissionAdded: boolean; notificationChanged: boolean }> {
  const sid = statementId(trigger.bucket);
  const sourceArn = `arn:aws:s3:::${trigger.bucket}`;
  let hasStatement = false;
  try {
    const policy = await ctx.read('GetPolicy', { FunctionName: functionName, Qualifier: alias }, () =>
      ctx.lambda.send(new GetPolicyCommand({ FunctionName: functionName, Qualifier: alias })),
    );
    const statements = (JSON.parse(policy.Policy ?? '{}').Statement ?? []) as { Sid?: string }[];
    hasStatement = statements.some((statement) => statement.Sid === sid);
  } catch (error) {
    if (!isNotFound(error)) throw error; // no policy yet
  }
  if (!hasStatement) {
    const input = {
      FunctionName: functionName,
      Qualifier: alias,
      StatementId: sid,
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: sourceArn,
      SourceAccount: accountId,
    };
    await ctx.write(
      'AddPermission',
      input,
      async () => {
        try {
          return await ctx.lambda.send(new AddPermissionCommand(input));
        } catch (error) {
          // 409 "The statement id (...) provided already exists": a concurrent deploy got there first, which is fine
          if (errorName(error) === 'ResourceConflictException' && /already exists/i.test((error as Error).message))
            return {};
          throw error;
        }
      },
      () => ({}),
    );
  }
  const existing = await ctx.read(
    'GetBucketNotificationConfiguration',
    { Bucket: trigger.bucket },
    () => ctx.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: trigger.bucket })),
    () => ({}),
  );
  const ours = triggerConfigurations(trigger, functionName, aliasArn);
  const { merged, changed } = mergeNotifications(existing, ours, functionName);
  if (changed) {
    const kept =
      (merged.LambdaFunctionConfigurations?.length ?? 0) -
      ours.length +
      (merged.QueueConfigurations?.length ?? 0) +
      (merged.TopicConfigurations?.length ?? 0);
    await ctx.write(
      'PutBucketNotificationConfiguration',
      {
        Bucket: trigger.bucket,
        target: aliasArn,
        Events: ['s3:ObjectCreated:*'],
        ours: ours.map((config) => ({
          Id: config.Id,
          Filter: (config.Filter?.Key?.FilterRules ?? []).map((rule) => `${rule.Name}=${rule.Value}`).join(' '),
        })),
        keptOtherConfigurations: kept,
      },
      () =>
        ctx.s3.send(
          new PutBucketNotificationConfigurationCommand({ Bucket: trigger.bucket, NotificationConfiguration: merged }),
        ),
      () => ({}),
    );
  }
  return { permissionAdded: !hasStatement, notificationChanged: changed };
}
