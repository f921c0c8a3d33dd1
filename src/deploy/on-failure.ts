/**
 * The trigger's failed invocations (docs/deploy.md, "Failures that are not lost"): an S3 trigger invokes the alias
 * asynchronously, and after Lambda's retries a failed event is dropped. With `trigger.onFailure`, deploy sets the
 * alias's asynchronous invocation config (PutFunctionEventInvokeConfig): the on-failure destination, the retries and
 * the event age. It reads the current config first (GetFunctionEventInvokeConfig) and writes nothing when it matches.
 */
import {
  GetFunctionEventInvokeConfigCommand,
  PutFunctionEventInvokeConfigCommand,
  type FunctionEventInvokeConfig,
} from '@aws-sdk/client-lambda';
import { parseOnFailure } from '../config/on-failure.js';
import { inputError } from '../lib/errors.js';
import type { TriggerConfig } from '../types.js';
import type { DeployContext } from './context.js';
import { isNotFound } from '../remote/aws-errors.js';

/** What deploy asks for, or null when the trigger has no on-failure destination. */
export function desiredEventInvokeConfig(trigger: TriggerConfig) {
  if (!trigger.onFailure) return null;
  const target = parseOnFailure(trigger.onFailure);
  if ('problem' in target) {
    throw inputError(`trigger.onFailure "${trigger.onFailure}" ${target.problem}`, 'fix it in lambda-ml.config.json');
  }
  return {
    MaximumRetryAttempts: trigger.maxRetryAttempts ?? 2,
    MaximumEventAgeInSeconds: trigger.maxEventAgeS ?? 21_600,
    DestinationConfig: { OnFailure: { Destination: target.arn } },
  };
}

type Desired = NonNullable<ReturnType<typeof desiredEventInvokeConfig>>;

/** True when Lambda's config already is what deploy asks for (an OnSuccess destination someone set is kept). */
function matches(current: FunctionEventInvokeConfig | null, desired: Desired): boolean {
  return (
    current !== null &&
    current.MaximumRetryAttempts === desired.MaximumRetryAttempts &&
    current.MaximumEventAgeInSeconds === desired.MaximumEventAgeInSeconds &&
    current.DestinationConfig?.OnFailure?.Destination === desired.DestinationConfig.OnFailure.Destination
  );
}

/** Sets the alias's on-failure destination; returns whether it wrote. */
export async function configureOnFailure(
  ctx: DeployContext,
  trigger: TriggerConfig,
  functionName: string,
  alias: string,
): Promise<boolean> {
  const desired = desiredEventInvokeConfig(trigger);
  if (!desired) return false;
  const key = { FunctionName: functionName, Qualifier: alias };
  const current = await ctx
    .read('GetFunctionEventInvokeConfig', key, () => ctx.lambda.send(new GetFunctionEventInvokeConfigCommand(key)))
    .catch((error) => {
      if (isNotFound(error)) return null;
      throw error;
    });
  if (matches(current, desired)) return false;
  // Put replaces the whole config: keep an OnSuccess destination set outside lambda-ml
  const onSuccess = current?.DestinationConfig?.OnSuccess?.Destination;
  const input = {
    ...key,
    ...desired,
    DestinationConfig: {
      ...desired.DestinationConfig,
      ...(onSuccess ? { OnSuccess: { Destination: onSuccess } } : {}),
    },
  };
  await ctx.write(
    'PutFunctionEventInvokeConfig',
    input,
    () => ctx.lambda.send(new PutFunctionEventInvokeConfigCommand(input)),
    () => ({}),
  );
  return true;
}
