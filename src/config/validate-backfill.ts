/**
 * The config keys of `lambda-ml backfill` and the cost estimate (docs/config.md): `backfill` { role, maxConcurrency,
 * report, priority }, `cost` { prices }, and the trigger's failure handling (onFailure, maxRetryAttempts,
 * maxEventAgeS).
 */
import { configError } from '../lib/errors.js';
import { mergePrices, type PriceTable } from '../cost/prices.js';
import type { BackfillConfig, TriggerConfig } from '../types.js';
import { ON_FAILURE_HINT, parseOnFailure } from './on-failure.js';
import { enumAt, numberAt, objectAt, stringAt, type Raw } from './schema.js';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const MAX_PRIORITY = 2_147_483_647;

export const BACKFILL_KEYS = ['role', 'maxConcurrency', 'report', 'priority'] as const;
export const TRIGGER_FAILURE_KEYS = ['onFailure', 'maxRetryAttempts', 'maxEventAgeS'] as const;

/** `backfill`: absent is every default. */
export function validateBackfill(value: unknown): BackfillConfig {
  const raw = value === undefined ? {} : objectAt(value, 'backfill', BACKFILL_KEYS);
  const role = stringAt(raw, 'role', 'backfill', null);
  if (role !== null && !ROLE_ARN.test(role)) {
    const hint =
      'write it as "arn:aws:iam::123456789012:role/lambda-ml-backfill" ' + '(lambda-ml policy --backfill prints it)';
    throw configError(`backfill.role "${role}" is not an IAM role ARN`, hint);
  }
  const maxConcurrency =
    raw.maxConcurrency === undefined ? null : numberAt(raw, 'maxConcurrency', 'backfill', 100, [1, 1_000_000]);
  return {
    role,
    maxConcurrency,
    report: enumAt(raw, 'report', 'backfill', ['failed', 'all'] as const, 'failed'),
    priority: numberAt(raw, 'priority', 'backfill', 10, [0, MAX_PRIORITY]),
  };
}

/** `cost`: { prices } merged over src/cost/prices.json. */
export function validateCost(value: unknown): { prices: PriceTable } {
  const raw = value === undefined ? {} : objectAt(value, 'cost', ['prices']);
  return { prices: mergePrices(raw.prices, 'cost.prices') };
}

/** The failure keys of `trigger` (Lambda's own defaults: 2 retries, 6 hours). */
type FailureKeys = Required<Pick<TriggerConfig, 'onFailure' | 'maxRetryAttempts' | 'maxEventAgeS'>>;

export function triggerFailureKeys(raw: Raw): FailureKeys {
  const onFailure = stringAt(raw, 'onFailure', 'trigger', null);
  if (onFailure !== null) {
    const parsed = parseOnFailure(onFailure);
    if ('problem' in parsed) throw configError(`trigger.onFailure "${onFailure}" ${parsed.problem}`, ON_FAILURE_HINT);
  }
  return {
    onFailure,
    maxRetryAttempts: numberAt(raw, 'maxRetryAttempts', 'trigger', 2, [0, 2]),
    maxEventAgeS: numberAt(raw, 'maxEventAgeS', 'trigger', 21_600, [60, 21_600]),
  };
}
