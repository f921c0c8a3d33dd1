/** `lambda-ml demo [--images DIR]`: README's main command ends here (see src/example/demo.ts). */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EXIT, inputError, type ExitCode } from '../../lib/errors.js';
import { makeColors, type GlobalOptions, type Io } from '../io.js';
import { renderBudget } from '../report/budget-human.js';
import { formatBytes } from '../../lib/bytes.js';
import { summarise } from './invoke.js';

export interface DemoFlags extends GlobalOptions {
  readonly images?: string;
}

export async function demoCommand(io: Io, flags: DemoFlags): Promise<ExitCode> {
  const images = flags.images === undefined ? undefined : await imagesFolder(io, flags.images);
  const { runDemo } = await import('../../example/demo.js');
  const c = makeColors(io, flags);
  const log = (line: string) => {
    if (!flags.json && !flags.quiet) io.stderr.write(`${c.dim('›')} ${line}\n`);
  };
  const result = await runDemo({ images, log, env: io.env });
  const failed = result.invoke.invocations.some((i) => !i.ok);
  if (flags.json) {
    io.stdout.write(
      JSON.stringify(
        {
          schemaVersion: 1,
          ok: !failed,
          budget: result.budget.budget,
          manifest: result.packaged.manifest,
          invoke: { ...summarise(result.invoke), invocations: result.invoke.invocations },
          photos: result.photos,
        },
        null,
        2,
      ) + '\n',
    );
    return failed ? EXIT.REMOTE : EXIT.OK;
  }
  const { budget } = result.budget;
  const { manifest } = result.packaged;
  io.stdout.write(renderBudget(budget, result.config, c).split('\nNext:')[0] + '\n');
  io.stdout.write(
    `${c.bold('Packaged')} ${manifest.plan}: ` +
      `function.zip ${formatBytes(manifest.artifacts.function.bytes)} ` +
      `(${formatBytes(manifest.artifacts.function.unzippedBytes)} unzipped), ` +
      `sha256 ${manifest.artifacts.function.sha256Base64}\n\n`,
  );
  const { coldStart } = summarise(result.invoke);
  const local = `(s3rver on ${result.endpoint}; cold start ${coldStart.firstInvocationMs} ms)`;
  io.stdout.write(`${c.bold('Classified locally')} ${c.dim(local)}\n`);
  for (const photo of result.photos) {
    io.stdout.write(`  ${c.bold(photo.key)}\n`);
    for (const tag of photo.tags) io.stdout.write(`    ${tag.Key.padEnd(20)} ${tag.Value}\n`);
    if (photo.tags.length === 0) io.stdout.write(c.yellow('    (no tags)\n'));
  }
  for (const inv of result.invoke.invocations)
    if (!inv.ok) io.stderr.write(`error: the handler failed: ${inv.error?.message}\n`);
  io.stdout.write(c.dim('\nNext: lambda-ml init my-classifier, add your model, then budget / package / deploy.\n'));
  return failed ? EXIT.REMOTE : EXIT.OK;
}

/** --images resolved against the cwd, checked before the demo starts its work. */
async function imagesFolder(io: Io, given: string): Promise<string> {
  const path = resolve(io.cwd, given);
  const found = await stat(path).catch(() => null);
  if (!found) throw inputError(`--images ${given}: not found`, 'give a folder of .jpg/.png/.webp photos');
  if (!found.isDirectory()) {
    throw inputError(`--images ${given}: is a file, not a folder`, 'give the folder that holds your photos');
  }
  return path;
}
