/** validateConfig(raw) -> frozen Config, or a config error naming the field and the fix (docs/design.md §8). */
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { configError } from '../lib/errors.js';
import { creatableRuntimes, DEFAULT_NODE_RUNTIME, findRuntime } from '../runtimes/table.js';
import {
  LAMBDA_LIMITS,
  MAX_LAYERS,
  MEMORY_MAX_MB,
  MEMORY_MIN_MB,
  TMP_DEFAULT_MB,
  TMP_MAX_MB,
  TMP_MIN_MB,
} from '../lib/limits.js';
import type { Config, FunctionConfig, LayerConfig, ModelConfig, PlanChoice, PruneMode } from '../types.js';
import { CHANNELS, channelCount, type Channels } from '../handler/preprocess.js';
import { DEFAULT_WARN_AT_PERCENT } from '../report/checks.js';
import { validateSideload } from './validate-sideload.js';
import { checkOneTfjsBackend, functionBackend, modelBackend } from './validate-backend.js';
import { triggerFailureKeys, TRIGGER_FAILURE_KEYS, validateBackfill, validateCost } from './validate-backfill.js';
import {
  arrayAt,
  booleanAt,
  bucketAt,
  enumAt,
  numberAt,
  objectAt,
  s3UrlAt,
  stringArrayAt,
  stringAt,
  type Raw,
} from './schema.js';

const TOP_KEYS = [
  '$schema',
  'function',
  'region',
  'code',
  'deps',
  'layers',
  'models',
  'colors',
  'tags',
  'results',
  'artifacts',
  'trigger',
  'plan',
  'prune',
  'backend',
  'allowSecrets',
  'maxImageBytes',
  'limits',
  'warnAtPercent',
  'backfill',
  'cost',
  'sideload',
] as const;
const FUNCTION_KEYS = [
  'name',
  'runtime',
  'architecture',
  'memoryMb',
  'ephemeralStorageMb',
  'timeoutS',
  'role',
  'handler',
  'environment',
  'alias',
];
const LAYER_KEYS = ['name', 'zip', 'dir', 'arn'];
const MODEL_KEYS = ['name', 'path', 's3', 'labels', 'input', 'topK', 'threshold', 'tag', 'bundle', 'backend'];
const LIMIT_KEYS = Object.keys(LAMBDA_LIMITS);
const LAYER_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/;

/** Validates parsed JSON against docs/design.md §8; relative paths resolve against `rootDir`. */
export function validateConfig(input: unknown, rootDir: string, configPath: string | null = null): Config {
  const raw = objectAt(input, '', TOP_KEYS);
  const path = (value: string | null) => (value === null ? null : isAbsolute(value) ? value : resolve(rootDir, value));
  const fn = validateFunction(raw.function);
  const layers = arrayAt(raw, 'layers', '').map((layer, i) => validateLayer(layer, `layers[${i}]`, path));
  if (layers.length > MAX_LAYERS)
    throw configError(
      `layers has ${layers.length} entries; Lambda allows ${MAX_LAYERS} per function`,
      'merge layers or move packages into deps',
    );
  const models = arrayAt(raw, 'models', '').map((model, i) => validateModel(model, `models[${i}]`, path));
  const names = new Set<string>();
  for (const [i, model] of models.entries()) {
    if (names.has(model.name))
      throw configError(`models[${i}].name "${model.name}" is used twice`, 'give each model a unique name');
    names.add(model.name);
  }
  const backend = functionBackend(raw);
  checkOneTfjsBackend(backend, models);
  const colors = raw.colors === undefined ? {} : objectAt(raw.colors, 'colors', ['count']);
  const tags = raw.tags === undefined ? {} : objectAt(raw.tags, 'tags', ['prefix']);
  const artifacts = raw.artifacts === undefined ? {} : objectAt(raw.artifacts, 'artifacts', ['bucket', 'prefix']);
  const limits = raw.limits === undefined ? {} : objectAt(raw.limits, 'limits', LIMIT_KEYS);
  const limitValues = Object.fromEntries(
    LIMIT_KEYS.map((key) => [
      key,
      numberAt(limits, key, 'limits', LAMBDA_LIMITS[key as keyof typeof LAMBDA_LIMITS], [1, Number.MAX_SAFE_INTEGER]),
    ]),
  );
  return deepFreeze({
    configPath,
    rootDir,
    function: fn,
    region: stringAt(raw, 'region', '', null),
    code: path(stringAt(raw, 'code', '', null)),
    deps: path(stringAt(raw, 'deps', '', null)),
    layers,
    models,
    colors: { count: numberAt(colors, 'count', 'colors', 3, [0, 10]) },
    tags: { prefix: tagPrefix(tags) },
    results: s3UrlAt(raw, 'results', ''),
    artifacts: {
      bucket: bucketAt(artifacts, 'bucket', 'artifacts', null),
      prefix: stringAt(artifacts, 'prefix', 'artifacts', 'lambda-ml/') ?? 'lambda-ml/',
    },
    trigger: validateTrigger(raw.trigger),
    plan: enumAt<PlanChoice>(raw, 'plan', '', ['auto', 'bundle', 'sideload-bundled', 'sideload-s3'], 'auto'),
    prune: enumAt<PruneMode>(raw, 'prune', '', ['off', 'safe', 'trace'], 'safe'),
    backend,
    allowSecrets: stringArrayAt(raw, 'allowSecrets', '', []),
    maxImageBytes: numberAt(raw, 'maxImageBytes', '', 50 * 1_048_576, [1, Number.MAX_SAFE_INTEGER]),
    limits: limitValues as unknown as Config['limits'],
    // The soft budget (docs/budget.md): above it a byte check warns, budget still exits 0.
    warnAtPercent: numberAt(raw, 'warnAtPercent', '', DEFAULT_WARN_AT_PERCENT, [1, 100], false),
    backfill: validateBackfill(raw.backfill),
    cost: validateCost(raw.cost),
    sideload: validateSideload(raw.sideload, findRuntime(fn.runtime)!),
  });
}

function validateFunction(value: unknown): FunctionConfig {
  if (value === undefined)
    throw configError(
      'function is required',
      `add "function": { "name": "asset-classifier", "runtime": "${DEFAULT_NODE_RUNTIME}", ... }`,
    );
  const raw = objectAt(value, 'function', FUNCTION_KEYS);
  const name = stringAt(raw, 'name', 'function') as string;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
    throw configError(`function.name "${name}" is not a valid Lambda name`, 'use 1–64 letters, digits, - or _');
  const runtime = stringAt(raw, 'runtime', 'function', DEFAULT_NODE_RUNTIME) as string;
  const known = findRuntime(runtime);
  if (!known) {
    const creatable = creatableRuntimes()
      .map((r) => r.id)
      .join(', ');
    throw configError(
      `function.runtime "${runtime}" is not a Lambda runtime lambda-ml knows`,
      `use one AWS lets you create functions on: ${creatable}`,
    );
  }
  const role = stringAt(raw, 'role', 'function', null);
  if (role !== null && !ROLE_ARN.test(role))
    throw configError(
      `function.role "${role}" is not an IAM role ARN`,
      'write it as "arn:aws:iam::123456789012:role/NAME"',
    );
  const environment =
    raw.environment === undefined
      ? {}
      : objectAt(raw.environment, 'function.environment', Object.keys(raw.environment ?? {}));
  for (const [key, v] of Object.entries(environment)) {
    if (typeof v !== 'string')
      throw configError(`function.environment.${key} must be a string`, `quote the value: "${key}": "${String(v)}"`);
  }
  return {
    name,
    runtime,
    architecture: enumAt(raw, 'architecture', 'function', known.architectures, 'x86_64'),
    memoryMb: numberAt(raw, 'memoryMb', 'function', 3008, [MEMORY_MIN_MB, MEMORY_MAX_MB]),
    ephemeralStorageMb: numberAt(raw, 'ephemeralStorageMb', 'function', TMP_DEFAULT_MB, [TMP_MIN_MB, TMP_MAX_MB]),
    timeoutS: numberAt(raw, 'timeoutS', 'function', 60, [1, 900]),
    role,
    handler: stringAt(raw, 'handler', 'function', null),
    environment: environment as Record<string, string>,
    alias: stringAt(raw, 'alias', 'function', 'live') as string,
  };
}

function validateLayer(value: unknown, at: string, path: (p: string | null) => string | null): LayerConfig {
  const raw = objectAt(value, at, LAYER_KEYS);
  const zip = path(stringAt(raw, 'zip', at, null));
  const dir = path(stringAt(raw, 'dir', at, null));
  const arn = stringAt(raw, 'arn', at, null);
  if (zip === null && dir === null && arn === null)
    throw configError(
      `${at} needs "zip", "dir" or "arn"`,
      'point it at a local zip, a local folder, or a layer version ARN',
    );
  if (zip !== null && dir !== null) throw configError(`${at} has both "zip" and "dir"`, 'keep one of them');
  if (arn !== null && !LAYER_ARN.test(arn))
    throw configError(
      `${at}.arn "${arn}" is not a layer version ARN`,
      'write it as "arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"',
    );
  const fallback =
    arn !== null ? (arn.split(':')[6] ?? 'layer') : basename(zip ?? dir ?? 'layer', extname(zip ?? dir ?? ''));
  return { name: stringAt(raw, 'name', at, fallback) as string, zip, dir, arn };
}

function validateModel(value: unknown, at: string, path: (p: string | null) => string | null): ModelConfig {
  const raw = objectAt(value, at, MODEL_KEYS);
  const name = stringAt(raw, 'name', at) as string;
  const modelPath = path(stringAt(raw, 'path', at, null));
  const s3 = s3UrlAt(raw, 's3', at);
  if (modelPath === null && s3 === null)
    throw configError(
      `${at} needs "path" or "s3"`,
      'point "path" at a TF.js model folder or an .h5/.keras file, or "s3" at where it is stored',
    );
  const input =
    raw.input === undefined
      ? {}
      : objectAt(raw.input, `${at}.input`, ['width', 'height', 'range', 'channels', 'mean', 'std']);
  const range = input.range === undefined ? [0, 1] : input.range;
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !range.every((n) => typeof n === 'number') ||
    range[0] >= range[1]
  ) {
    throw configError(
      `${at}.input.range must be [min, max] with min < max`,
      'use [0, 1] for pixel/255 or [-1, 1] for MobileNet-style inputs',
    );
  }
  return {
    name,
    path: modelPath,
    s3,
    labels: path(stringAt(raw, 'labels', at, null)),
    input: {
      width: numberAt(input, 'width', `${at}.input`, 224, [1, 4096]),
      height: numberAt(input, 'height', `${at}.input`, 224, [1, 4096]),
      range: [range[0], range[1]] as const,
      ...channelStats(input, `${at}.input`),
    },
    topK: numberAt(raw, 'topK', at, 3, [1, 100]),
    threshold: numberAt(raw, 'threshold', at, 0, [0, 1], false),
    tag: stringAt(raw, 'tag', at, name) as string,
    bundle: booleanAt(raw, 'bundle', at, false),
    backend: modelBackend(raw, at),
  };
}

function validateTrigger(value: unknown): Config['trigger'] {
  if (value === undefined) return null;
  const raw = objectAt(value, 'trigger', ['bucket', 'prefix', 'suffixes', ...TRIGGER_FAILURE_KEYS]);
  return {
    bucket: bucketAt(raw, 'bucket', 'trigger') as string,
    prefix: stringAt(raw, 'prefix', 'trigger', '') ?? '',
    suffixes: stringArrayAt(raw, 'suffixes', 'trigger', ['.jpg', '.jpeg', '.png', '.webp']),
    ...triggerFailureKeys(raw),
  };
}

function tagPrefix(tags: Raw): string {
  const prefix = stringAt(tags, 'prefix', 'tags', 'ml:') as string;
  if (prefix.toLowerCase().startsWith('aws:'))
    throw configError('tags.prefix must not start with "aws:"', 'S3 reserves aws: tag keys; use e.g. "ml:"');
  return prefix;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * `input.channels`, `mean` and `std` (docs/config.md): a single number applies to every channel; std must be > 0.
 * Only the keys the config sets are returned (absent: rgb, mean 0, std 1), so older runtime configs read the same.
 */
function channelStats(input: Raw, at: string): { channels?: Channels; mean?: number[]; std?: number[] } {
  const channels = enumAt(input, 'channels', at, CHANNELS, 'rgb');
  const count = channelCount(channels);
  const perChannel = (key: 'mean' | 'std', fallback: number, example: string): number[] => {
    const value = input[key];
    if (value === undefined) return Array.from({ length: count }, () => fallback);
    const values = typeof value === 'number' ? Array.from({ length: count }, () => value) : value;
    const ok =
      Array.isArray(values) &&
      values.length === count &&
      values.every((n) => typeof n === 'number' && Number.isFinite(n)) &&
      (key === 'mean' || values.every((n) => (n as number) > 0));
    if (!ok) {
      const what = key === 'std' ? 'numbers > 0' : 'numbers';
      throw configError(
        `${at}.${key} must be ${count} ${what} (one per ${channels} channel) ` +
          `or a single number, got ${JSON.stringify(value)}`,
        `e.g. "${key}": ${example}`,
      );
    }
    return values as number[];
  };
  const example = (rgb: string, grey: string) => (count === 1 ? grey : rgb);
  const mean = perChannel('mean', 0, example('[0.485, 0.456, 0.406]', '0.1307'));
  const std = perChannel('std', 1, example('[0.229, 0.224, 0.225]', '0.3081'));
  return {
    ...(input.channels === undefined ? {} : { channels }),
    ...(input.mean === undefined ? {} : { mean }),
    ...(input.std === undefined ? {} : { std }),
  };
}
