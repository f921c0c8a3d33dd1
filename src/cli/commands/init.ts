/**
 * `lambda-ml init [DIR] [--name NAME] [--model PATH [--labels FILE]]`: a starter asset-classifier project that budgets
 * as it is after `npm install` (docs/design.md, `init`). Everything is checked before anything is written.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { EXIT, inputError, type ExitCode } from '../../lib/errors.js';
import { bucketNames, projectName, projectNameProblem } from '../../lib/names.js';
import type { GlobalOptions, Io } from '../io.js';
import { makeColors } from '../io.js';
import { lambdaMlSpec } from './init/lambda-ml-spec.js';
import { shellQuote } from './init/shell-quote.js';
import { starterConfig, starterPackage } from './init/starter-files.js';
import { bundledModel, userModel, type StarterModel } from './init/starter-model.js';
import { starterPaths, writeStarter } from './init/write-starter.js';

export { pinnedHandlerDeps } from './init/starter-files.js';

export interface InitFlags extends GlobalOptions {
  readonly force?: boolean;
  readonly name?: string;
  readonly model?: string;
  readonly labels?: string;
}

export async function initCommand(io: Io, dirArg: string | undefined, flags: InitFlags): Promise<ExitCode> {
  const dir = resolve(io.cwd, dirArg ?? '.');
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw inputError(`${dir}: is a file, not a folder`, 'give init a folder (new or existing)');
  }
  const name = flags.name === undefined ? projectName(basename(dir)) : checkedName(flags.name);
  if (flags.labels !== undefined && flags.model === undefined) {
    throw inputError('--labels needs --model', 'pass --model PATH (your model) with --labels FILE (its class names)');
  }
  const model = flags.model === undefined ? await bundledModel() : await userModel(flags.model, flags.labels, io.cwd);
  const clash = starterPaths(model)
    .map((rel) => join(dir, rel))
    .find((path) => existsSync(path));
  if (clash && !flags.force) {
    const shown = relative(io.cwd, clash) || clash;
    throw inputError(`${shown} already exists`, 'pass --force to overwrite, or choose another folder');
  }
  const config = starterConfig(name, model);
  const pkg = starterPackage(name, lambdaMlSpec());
  const files = await writeStarter({ dir, config, pkg, model });
  const where = relative(io.cwd, dir) || '.';
  const next = `${where === '.' ? '' : `cd ${shellQuote(where)} && `}npm install && npm run budget`;
  const warnings = [...(model?.warnings ?? []), ...(model ? [] : [noModelWarning()])];
  if (flags.json) {
    const summary = model && {
      name: model.name,
      kind: model.kind,
      about: model.about,
      labels: model.labels.length,
      input: model.input,
    };
    const buckets = bucketNames(name);
    const body = { schemaVersion: 1, ok: true, dir, name, buckets, files, model: summary, warnings, next };
    io.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return EXIT.OK;
  }
  if (flags.quiet) return EXIT.OK;
  for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  io.stdout.write(summaryLines(io, flags, { where, model, next }).join('\n') + '\n');
  return EXIT.OK;
}

/** `--name` as given, or an input error naming it with the name that would work. */
function checkedName(name: string): string {
  const problem = projectNameProblem(name);
  if (problem === null) return name;
  const hint = `it names the npm package, the Lambda function and the S3 buckets: try --name ${projectName(name)}`;
  throw inputError(`--name ${JSON.stringify(name)} ${problem}`, hint);
}

const noModelWarning = () =>
  'no model: nsfwjs (the source of the example model) is not installed; add yours with --force --model PATH';

interface InitRun {
  readonly where: string;
  readonly model: StarterModel | null;
  readonly next: string;
}

function summaryLines(io: Io, flags: InitFlags, run: InitRun): string[] {
  const c = makeColors(io, flags);
  const { model } = run;
  const written = ['lambda-ml.config.json', 'package.json', ...(model ? [`models/${model.name}/`] : [])];
  const lines = [`${c.green('✓')} wrote ${written.join(', ')} in ${run.where}/`];
  if (model) {
    lines.push(`  model "${model.name}": ${model.about}, tag ml:${model.name}`);
    if (model.kind === 'bundled') {
      lines.push('  your own model: lambda-ml init --force --model PATH [--labels FILE] (TF.js folder, Keras file)');
    } else {
      lines.push(`  check models[0].input in lambda-ml.config.json: range [0, 1] (pixels / 255) is assumed`);
    }
  }
  lines.push(c.dim(`Next: ${run.next}`));
  return lines;
}
