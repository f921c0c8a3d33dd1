/**
 * `convert`'s quantisation flags and, with `--config`, the calibration input of the config model whose `path` is IN
 * (docs/convert.md, "Calibration inputs"): flags win over the config, key by key.
 */
import { realpath } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { inputError } from '../../lib/errors.js';
import type { ModelInputConfig } from '../../types.js';
import type { QuantizeChoice, QuantizeOptions } from '../../convert/index.js';
import { CHANNELS, channelCount, type Channels } from '../../handler/preprocess.js';
import type { GlobalOptions, Io } from '../io.js';

export interface ConvertFlags extends GlobalOptions {
  readonly quantize?: string;
  readonly maxDiff?: string;
  readonly calibrate?: string;
  readonly range?: string;
  readonly channels?: string;
  readonly mean?: string;
  readonly std?: string;
  readonly strict?: boolean;
  /** onnx | tfjs; default by OUT's extension (convert-onnx.ts). */
  readonly format?: string;
}

/** The input section of the config model that IN is, and how the report names it. */
export interface ConfigInput {
  readonly input: ModelInputConfig;
  readonly label: string;
}

const NEEDS_QUANTIZE = ['maxDiff', 'calibrate', 'range', 'channels', 'mean', 'std', 'strict'] as const;
const INPUT_FLAGS = ['range', 'channels', 'mean', 'std'] as const;
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const numbers = (flag: string, value: string, count: number | null, example: string): number[] => {
  const values = value.split(',').map((part) => Number(part.trim()));
  if (values.some((n) => !Number.isFinite(n) || value.trim() === '') || (count !== null && values.length !== count)) {
    throw inputError(
      `${flag} must be ${count === null ? 'numbers' : `${count} numbers`} separated by commas (got "${value}")`,
      `e.g. ${flag} ${example}`,
    );
  }
  return values;
};

/** Checks --quantize and the flags that need it, before anything is read. */
export function checkQuantizeFlags(flags: ConvertFlags): void {
  if (flags.quantize !== undefined && !['auto', 'uint8', 'float16'].includes(flags.quantize)) {
    throw inputError(
      `--quantize must be auto, uint8 or float16 (got "${flags.quantize}")`,
      'auto picks uint8/float16/float32 per tensor and keeps every top-1',
    );
  }
  const given = NEEDS_QUANTIZE.find((key) => flags[key] !== undefined);
  if (!flags.quantize && given) throw inputError(`${flagName(given)} needs --quantize`, 'e.g. --quantize auto');
  if (flags.channels !== undefined && !(CHANNELS as readonly string[]).includes(flags.channels)) {
    throw inputError(
      `--channels must be rgb, bgr or grey (got "${flags.channels}")`,
      'caffe-style Keras models (ResNet50) use bgr',
    );
  }
}

/** The quantisation options from the flags over the config model's input (one line each, exit 2). */
export function quantizeOptions(io: Io, flags: ConvertFlags, config?: ConfigInput): QuantizeOptions {
  checkQuantizeFlags(flags);
  const maxDiff = flags.maxDiff === undefined ? undefined : numbers('--max-diff', flags.maxDiff, 1, '0.02')[0];
  if (maxDiff !== undefined && !(maxDiff > 0 && maxDiff <= 1))
    throw inputError(`--max-diff must be > 0 and <= 1 (got "${flags.maxDiff}")`, 'e.g. --max-diff 0.02');
  const fromConfig = config?.input;
  const channels = (flags.channels as Channels | undefined) ?? fromConfig?.channels;
  const count = channelCount(channels);
  const range =
    flags.range === undefined ? [...(fromConfig?.range ?? [0, 1])] : numbers('--range', flags.range, 2, '0,1');
  if (range[0] >= range[1])
    throw inputError(`--range must be MIN,MAX with MIN < MAX (got "${flags.range}")`, 'e.g. --range -1,1');
  const perChannel = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const values = numbers(flag, value, null, count === 1 ? '0.5' : '0.485,0.456,0.406');
    if (values.length !== 1 && values.length !== count)
      throw inputError(
        `${flag} must be 1 or ${count} numbers (got "${value}")`,
        `one per ${channels ?? 'rgb'} channel`,
      );
    return values.length === 1 ? Array.from({ length: count }, () => values[0]) : values;
  };
  const configured = (key: 'mean' | 'std') => {
    const values = fromConfig?.[key];
    if (values && values.length !== 1 && values.length !== count)
      throw inputError(
        `${config!.label}: input.${key} has ${values.length} numbers and --channels ${channels} takes ${count}`,
        `pass --${key} too, or drop --channels`,
      );
    return values;
  };
  const std = perChannel('--std', flags.std) ?? configured('std');
  if (std?.some((n) => n <= 0))
    throw inputError(`--std must be > 0 (got "${flags.std}")`, 'e.g. --std 0.229,0.224,0.225');
  const overridden = INPUT_FLAGS.filter((key) => flags[key] !== undefined).map(flagName);
  const inputFrom = config
    ? `${config.label}${overridden.length > 0 ? `, ${overridden.join(' ')} from the command line` : ''}`
    : overridden.length > 0
      ? 'flags'
      : 'defaults';
  return {
    quantize: flags.quantize as QuantizeChoice | undefined,
    maxDiff,
    calibrate: flags.calibrate === undefined ? undefined : resolve(io.cwd, flags.calibrate),
    input: {
      range: [range[0], range[1]],
      channels,
      mean: perChannel('--mean', flags.mean) ?? configured('mean'),
      std,
      // the model's own input size wins; these size an input it leaves open, as the handler resizes to them
      width: fromConfig?.width,
      height: fromConfig?.height,
    },
    inputFrom,
    strict: flags.strict,
  };
}

/** An absolute path with symlinks resolved when it exists (IN and models[].path may reach a file different ways). */
const canonical = async (path: string) => realpath(path).catch(() => resolve(path));

/** A model path names IN when they are the same, or one is the other's folder with model.json in it. */
const isSame = (a: string, b: string) => a === b || a === join(b, 'model.json') || b === join(a, 'model.json');

/**
 * The `input` of the config model whose `path` is IN. The config is loaded as every command loads it (validated;
 * its paths resolved against its folder), IN against the cwd. No such model is exit 2 listing the configured paths.
 */
export async function configInputFor(io: Io, configPath: string, input: string): Promise<ConfigInput> {
  const { loadConfig } = await import('../../config/load.js');
  const config = await loadConfig(io.cwd, configPath);
  const file = relative(io.cwd, config.configPath ?? resolve(io.cwd, configPath));
  const target = await canonical(resolve(io.cwd, input));
  for (const [index, model] of config.models.entries()) {
    if (model.path && isSame(await canonical(model.path), target))
      return { input: model.input, label: `models[${index}] "${model.name}" of ${file}` };
  }
  const listed = config.models.map(
    (model) => `"${model.name}" ${model.path ? relative(io.cwd, model.path) || '.' : '(s3 only)'}`,
  );
  throw inputError(
    `${input}: no model in ${file} has this path (its models: ${listed.length > 0 ? listed.join(', ') : 'none'})`,
    `pass one of those paths as IN, set the model's "path" to ${input}, or drop --config`,
  );
}
