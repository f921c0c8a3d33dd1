/** `lambda-ml convert IN OUT [--quantize uint8|float16]`: Keras .h5/.keras to a TF.js layers model. */
import { relative, resolve } from 'node:path';
import { formatBytes } from '../../lib/bytes.js';
import { EXIT, inputError, type ExitCode } from '../../lib/errors.js';
import { makeColors, type GlobalOptions, type Io } from '../io.js';

export interface ConvertFlags extends GlobalOptions { readonly quantize?: string }

export async function convertCommand(io: Io, input: string, output: string, flags: ConvertFlags): Promise<ExitCode> {
  if (flags.quantize !== undefined && flags.quantize !== 'uint8' && flags.quantize !== 'float16') {
    throw inputError(`--quantize must be uint8 or float16 (got "${flags.quantize}")`, 'uint8 cuts weights by 75%, float16 by 50%');
  }
  const { convertKeras } = await import('../../convert/index.js');
  const report = await convertKeras(resolve(io.cwd, input), resolve(io.cwd, output), { quantize: flags.quantize as 'uint8' | 'float16' | undefined });
  if (flags.json) io.stdout.write(JSON.stringify({ schemaVersion: 1, ok: true, ...report }, null, 2) + '\n');
  else if (!flags.quiet) {
    const c = makeColors(io, flags);
    const saved = report.bytesBefore > 0 ? Math.round((1 - report.bytesAfter / report.bytesBefore) * 100) : 0;
    io.stdout.write(`${c.green('✓')} converted ${report.format} (Keras ${report.kerasVersion}) to ${relative(io.cwd, report.outDir) || '.'}/: ${report.layers} layers, ${report.params.toLocaleString('en-US')} parameters\n`);
    io.stdout.write(`  weights ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)}${report.quantize ? ` (${report.quantize}, -${saved}%, largest output difference ${report.maxAbsDiff.toExponential(2)})` : ''}\n`);
    io.stdout.write(c.dim(`Next: point models[].path at ${relative(io.cwd, report.outDir) || '.'} and run lambda-ml budget\n`));
  }
  return EXIT.OK;
}
