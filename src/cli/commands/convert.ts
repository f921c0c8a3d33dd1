/**
 * `lambda-ml convert IN OUT [--quantize auto|uint8|float16]`: Keras .h5/.keras (or a TF.js layers folder) to a TF.js
 * layers model.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, relative, resolve } from 'node:path';
import { formatBytes } from '../../lib/bytes.js';
import { EXIT, fsError, inputError, type ExitCode } from '../../lib/errors.js';
import { makeColors, type Io } from '../io.js';
import { checkOutputFolder } from '../output-file.js';
import type { ConvertReport } from '../../convert/index.js';
import { checkQuantizeFlags, configInputFor, quantizeOptions, type ConvertFlags } from './convert-options.js';

export type { ConvertFlags } from './convert-options.js';

export async function convertCommand(io: Io, input: string, output: string, flags: ConvertFlags): Promise<ExitCode> {
  const { convertFormat, convertOnnxCommand } = await import('./convert-onnx.js');
  if (convertFormat(flags.format, output) === 'onnx') return convertOnnxCommand(io, input, output, { ...flags });
  checkQuantizeFlags(flags);
  // IN and OUT are command-line paths: errors name them as given, against the cwd
  const inPath = resolve(io.cwd, input);
  await stat(inPath).catch((error: NodeJS.ErrnoException) => {
    const hint = `check the path to the Keras .h5 or .keras file (relative to ${io.cwd})`;
    if (error.code === 'ENOENT') throw inputError(`${input} not found`, hint);
    throw fsError(error, input);
  });
  // with --quantize, --config names the config whose model at IN gives the calibration input (convert-options.ts)
  const config = flags.quantize && flags.config ? await configInputFor(io, flags.config, input) : undefined;
  const options = quantizeOptions(io, flags, config);
  const outPath = resolve(io.cwd, output);
  await checkOutputFolder('OUT', outPath, output);
  const convert = await import('../../convert/index.js');
  // a TF.js model is its folder or its model.json
  const isModelJson = basename(inPath) === 'model.json';
  const isFolder = isModelJson || (await stat(inPath)).isDirectory();
  if (isFolder && !options.quantize)
    throw inputError(
      `${input}: is ${isModelJson ? 'a TF.js model' : 'a folder'}`,
      'a TF.js model folder needs no conversion; add --quantize auto to re-quantise it',
    );
  if (options.quantize) await useWasm();
  if (isFolder) {
    const report = await convert.convertTfjs(isModelJson ? dirname(inPath) : inPath, outPath, options);
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
      io.stdout.write(`  calibration input: ${describeInput(q.normalisation)} (${q.normalisationFrom})\n`);
    }
    io.stdout.write(
      c.dim(`Next: point models[].path at ${relative(io.cwd, report.outDir) || '.'} and run lambda-ml budget\n`),
    );
  }
  return EXIT.OK;
}

/** `28x28 grey, range [0, 1], mean [0.1307], std [0.3081]`: what the calibration inputs were preprocessed with. */
function describeInput(input: NonNullable<Printable['quantization']>['normalisation']): string {
  const list = (values: readonly number[]) => `[${values.map((n) => Number(n.toPrecision(6))).join(', ')}]`;
  const size = input.width && input.height ? `${input.width}x${input.height} ${input.channels ?? 'rgb'}, ` : '';
  const stats = [input.mean && `mean ${list(input.mean)}`, input.std && `std ${list(input.std)}`].filter(Boolean);
  return `${size}range ${list(input.range)}${stats.length > 0 ? `, ${stats.join(', ')}` : ''}`;
}
