/**
 * `lambda-ml convert IN OUT [--quantize auto|uint8|float16]`: Keras .h5/.keras (or a TF.js layers folder) to a TF.js
 * layers model.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { relative, resolve } from 'node:path';
import { formatBytes } from '../../lib/bytes.js';
import { EXIT, fsError, inputError, type ExitCode } from '../../lib/errors.js';
import { makeColors, type GlobalOptions, type Io } from '../io.js';
import { checkOutputFolder } from '../output-file.js';
import type { ConvertReport, QuantizeChoice, QuantizeOptions } from '../../convert/index.js';
import { CHANNELS, channelCount, type Channels } from '../../handler/preprocess.js';

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

/** The quantisation flags, checked before anything is read (one line each, exit 2). */
function quantizeOptions(io: Io, flags: ConvertFlags): QuantizeOptions {
  if (flags.quantize !== undefined && !['auto', 'uint8', 'float16'].includes(flags.quantize)) {
    throw inputError(
      `--quantize must be auto, uint8 or float16 (got "${flags.quantize}")`,
      'auto picks uint8/float16/float32 per tensor and keeps every top-1',
    );
  }
  const needs = ['maxDiff', 'calibrate', 'range', 'channels', 'mean', 'std', 'strict'].filter(
    (key) => flags[key as keyof ConvertFlags] !== undefined,
  );
  if (!flags.quantize && needs.length > 0)
    throw inputError(
      `--${needs[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --quantize`,
      'e.g. --quantize auto',
    );
  const maxDiff = flags.maxDiff === undefined ? undefined : numbers('--max-diff', flags.maxDiff, 1, '0.02')[0];
  if (maxDiff !== undefined && !(maxDiff > 0 && maxDiff <= 1))
    throw inputError(`--max-diff must be > 0 and <= 1 (got "${flags.maxDiff}")`, 'e.g. --max-diff 0.02');
  if (flags.channels !== undefined && !(CHANNELS as readonly string[]).includes(flags.channels)) {
    throw inputError(
      `--channels must be rgb, bgr or grey (got "${flags.channels}")`,
      'caffe-style Keras models (ResNet50) use bgr',
    );
  }
  const channels = flags.channels as Channels | undefined;
  const count = channelCount(channels);
  const range = flags.range === undefined ? [0, 1] : numbers('--range', flags.range, 2, '0,1');
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
  const std = perChannel('--std', flags.std);
  if (std?.some((n) => n <= 0))
    throw inputError(`--std must be > 0 (got "${flags.std}")`, 'e.g. --std 0.229,0.224,0.225');
  return {
    quantize: flags.quantize as QuantizeChoice | undefined,
    maxDiff,
    calibrate: flags.calibrate === undefined ? undefined : resolve(io.cwd, flags.calibrate),
    input: { range: [range[0], range[1]], channels, mean: perChannel('--mean', flags.mean), std },
    strict: flags.strict,
  };
}

export async function convertCommand(io: Io, input: string, output: string, flags: ConvertFlags): Promise<ExitCode> {
  const { convertFormat, convertOnnxCommand } = await import('./convert-onnx.js');
  if (convertFormat(flags.format, output) === 'onnx') return convertOnnxCommand(io, input, output, { ...flags });
  const options = quantizeOptions(io, flags);
  // IN and OUT are command-line paths: errors name them as given, against the cwd (no config is involved).
  const inPath = resolve(io.cwd, input);
  await stat(inPath).catch((error: NodeJS.ErrnoException) => {
    const hint = `check the path to the Keras .h5 or .keras file (relative to ${io.cwd})`;
    if (error.code === 'ENOENT') throw inputError(`${input} not found`, hint);
    throw fsError(error, input);
  });
  const outPath = resolve(io.cwd, output);
  await checkOutputFolder('OUT', outPath, output);
  const convert = await import('../../convert/index.js');
  const isFolder = (await stat(inPath)).isDirectory();
  if (isFolder && !options.quantize)
    throw inputError(
      `${input}: is a folder`,
      'a TF.js model folder needs no conversion; add --quantize auto to re-quantise it',
    );
  if (options.quantize) await useWasm();
  if (isFolder) {
    const report = await convert.convertTfjs(inPath, outPath, options);
    return printReport(io, flags, { ...report, layers: undefined, format: 'TF.js layers', kerasVersion: undefined });
  }
  const report = await convert.convertKeras(inPath, outPath, options);
  return printReport(io, flags, report);
}

/** The forward passes of the quantisation check run on wasm when it loads (15x faster than cpu), else cpu. */
async function useWasm(): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { selectBackend } = await import('../../handler/backend.js');
  const req = Object.assign(createRequire(import.meta.url), { roots: [] as string[] });
  await selectBackend(tf, req, 'wasm');
}

type Printable = Omit<ConvertReport, 'format' | 'kerasVersion' | 'layers' | 'notes'> & {
  format: string;
  kerasVersion?: string;
  layers?: number;
  notes?: readonly string[];
};

function printReport(io: Io, flags: ConvertFlags, report: Printable): ExitCode {
  const q = report.quantization;
  for (const warning of q?.warnings ?? []) io.stderr.write(`warning: ${warning}\n`);
  if (flags.json) io.stdout.write(JSON.stringify({ schemaVersion: 1, ok: true, ...report }, null, 2) + '\n');
  else if (!flags.quiet) {
    const c = makeColors(io, flags);
    const saved = report.params > 0 ? Math.round((1 - report.bytesAfter / (report.params * 4)) * 100) : 0;
    const keras = report.kerasVersion ? ` (Keras ${report.kerasVersion})` : '';
    const layers = report.layers !== undefined ? `${report.layers} layers, ` : '';
    const outDir = relative(io.cwd, report.outDir) || '.';
    io.stdout.write(
      `${c.green('✓')} converted ${report.format}${keras} to ${outDir}/: ` +
        `${layers}${report.params.toLocaleString('en-US')} parameters\n`,
    );
    const against = report.quantize
      ? ` (${report.quantize}: -${saved}% against float32 ${formatBytes(report.params * 4)})`
      : '';
    io.stdout.write(`  weights ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)}${against}\n`);
    if (q) {
      io.stdout.write(
        `  tensors: ${q.counts.uint8} uint8, ${q.counts.float16} float16, ${q.counts.float32} float32; ` +
          `on ${q.inputs} ${q.calibration} inputs ${q.flips} top-1 changed, largest output ` +
          `difference ${q.maxAbsDiff.toFixed(4)} (${q.passes} passes, ${(q.ms / 1000).toFixed(1)} s)\n`,
      );
      io.stdout.write(`  largest: ${q.largest.map((t) => `${t.name} ${t.dtype}`).join(', ')}\n`);
    }
    io.stdout.write(
      c.dim(`Next: point models[].path at ${relative(io.cwd, report.outDir) || '.'} and run lambda-ml budget\n`),
    );
  }
  return EXIT.OK;
}
