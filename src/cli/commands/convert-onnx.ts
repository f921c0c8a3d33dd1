/** `lambda-ml convert IN OUT.onnx` (or `--format onnx`): convert's ONNX branch (docs/convert.md, "ONNX output"). */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, relative, resolve } from 'node:path';
import { formatBytes } from '../../lib/bytes.js';
import { EXIT, fsError, inputError, type ExitCode } from '../../lib/errors.js';
import { makeColors, type GlobalOptions, type Io } from '../io.js';
import { checkOutputFolder } from '../output-file.js';

/** Output formats of convert. */
export type ConvertFormat = 'onnx' | 'tfjs';

/** `--format` if given, else by OUT's extension: `.onnx` is ONNX, anything else a TF.js folder. */
export function convertFormat(flag: string | undefined, output: string): ConvertFormat {
  if (flag === undefined) return extname(output).toLowerCase() === '.onnx' ? 'onnx' : 'tfjs';
  if (flag === 'onnx' || flag === 'tfjs') return flag;
  throw inputError(
    `--format must be onnx or tfjs (got "${flag}")`,
    'onnx writes one .onnx file, tfjs a TF.js layers folder (default: by OUT, .onnx is onnx)',
  );
}

/** The quantisation flags, which only TF.js output takes: ONNX models are written float32 (dequantised). */
const TFJS_ONLY = ['quantize', 'maxDiff', 'calibrate', 'range', 'channels', 'mean', 'std', 'strict'] as const;
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export async function convertOnnxCommand(
  io: Io,
  input: string,
  output: string,
  flags: GlobalOptions & Readonly<Record<string, unknown>>,
): Promise<ExitCode> {
  const tfjsOnly = TFJS_ONLY.find((key) => flags[key] !== undefined);
  if (tfjsOnly) {
    throw inputError(
      `${flagName(tfjsOnly)} applies to TF.js output: ONNX models are written float32`,
      `drop ${flagName(tfjsOnly)}, or write a TF.js folder (an OUT without .onnx, or --format tfjs)`,
    );
  }
  const inPath = resolve(io.cwd, input);
  const found = await stat(inPath).catch((error: NodeJS.ErrnoException) => {
    const hint = `check the path to the Keras .h5/.keras file or TF.js folder (relative to ${io.cwd})`;
    if (error.code === 'ENOENT') throw inputError(`${input} not found`, hint);
    throw fsError(error, input);
  });
  const outPath = resolve(io.cwd, output);
  if (outPath === inPath) throw inputError(`OUT ${output} is IN`, 'write the ONNX model to another file');
  const there = await stat(outPath).catch(() => null);
  if (there?.isDirectory()) {
    const example = `${output.replace(/\/+$/, '')}/model.onnx`;
    throw inputError(`OUT ${output}: is a folder, not a file`, `give the ONNX file's path, e.g. ${example}`);
  }
  await checkOutputFolder('OUT', dirname(outPath), dirname(output));
  if (!found.isDirectory() && !found.isFile()) throw inputError(`${input}: not a file or folder`);
  await useWasm();
  const { convertToOnnx } = await import('../../onnx/index.js');
  const report = await convertToOnnx(inPath, outPath, input);
  if (flags.json) {
    io.stdout.write(JSON.stringify({ schemaVersion: 1, ok: true, ...report }, null, 2) + '\n');
    return EXIT.OK;
  }
  if (flags.quiet) return EXIT.OK;
  const c = makeColors(io, flags);
  const from = report.source === 'tfjs-layers' ? 'TF.js layers' : `Keras ${report.kerasVersion ?? ''} ${report.source}`;
  const shown = relative(io.cwd, report.outFile) || report.outFile;
  io.stdout.write(
    `${c.green('✓')} converted ${from} to ${shown}: ${report.nodes} nodes (opset ${report.opset}), ` +
      `${report.params.toLocaleString('en-US')} parameters\n`,
  );
  io.stdout.write(
    `  ${formatBytes(report.bytes)} float32, sha256 ${report.sha256.slice(0, 12)}; ONNX Runtime matches TF.js ` +
      `to ${report.maxAbsDiff.toExponential(1)} on a seeded input\n`,
  );
  const notes = report.notes.length <= 3 ? report.notes : [`${report.notes.length} notes (--json lists them)`];
  for (const note of notes) io.stdout.write(c.dim(`  ${note}\n`));
  return EXIT.OK;
}

/** The TF.js side of the check runs on wasm when it loads (15x faster than cpu), as --quantize does. */
async function useWasm(): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { selectBackend } = await import('../../handler/backend.js');
  const req = Object.assign(createRequire(import.meta.url), { roots: [] as string[] });
  await selectBackend(tf, req, 'wasm');
}
