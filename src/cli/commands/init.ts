/** `lambda-ml init [DIR]`: a starter asset-classifier project that packages as it is after `npm install`. */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { EXIT, inputError, type ExitCode } from '../../lib/errors.js';
import { HANDLER_PACKAGES } from '../../pack/handler-files.js';
import type { GlobalOptions, Io } from '../io.js';
import { makeColors } from '../io.js';

export interface InitFlags extends GlobalOptions { readonly force?: boolean; readonly name?: string }

/** The handler's runtime deps, pinned to the versions lambda-ml itself was built and tested with. */
export function pinnedHandlerDeps(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const name of HANDLER_PACKAGES) {
    let version = '';
    try {
      const main = require.resolve(name);
      const root = main.slice(0, main.lastIndexOf(join('node_modules', name)) + join('node_modules', name).length);
      version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    } catch {
      throw inputError(`cannot find ${name} next to lambda-ml`, 'reinstall lambda-ml (npm ci)');
    }
    out[name] = version;
  }
  return out;
}

export async function initCommand(io: Io, dirArg: string | undefined, flags: InitFlags): Promise<ExitCode> {
  const dir = resolve(io.cwd, dirArg ?? '.');
  const name = (flags.name ?? (dirArg ? dirArg.split(/[\\/]/).pop() : 'asset-classifier') ?? 'asset-classifier').replace(/[^A-Za-z0-9_-]/g, '-') || 'asset-classifier';
  const files = ['lambda-ml.config.json', 'package.json', 'models/classifier/labels.json'].map((f) => join(dir, f));
  const clash = files.filter((f) => existsSync(f));
  if (clash.length && !flags.force) throw inputError(`${relative(io.cwd, clash[0]) || clash[0]} already exists`, 'pass --force to overwrite, or choose another folder');
  let hasModel = false;
  try {
    const { ensureExampleModel } = await import('../../example/node-example.js');
    await ensureExampleModel(join(dir, 'models', 'classifier'));
    hasModel = true;
  } catch {
    hasModel = false; // nsfwjs (a dev dependency) is not installed: the user brings a model
  }
  await mkdir(join(dir, 'models', 'classifier'), { recursive: true });
  const config = {
    function: { name, runtime: 'nodejs20.x', architecture: 'x86_64', memoryMb: 2048, ephemeralStorageMb: 512, timeoutS: 60, role: 'arn:aws:iam::123456789012:role/asset-classifier' },
    region: 'eu-west-1',
    deps: 'node_modules',
    models: [{ name: 'classifier', path: 'models/classifier', s3: `s3://${name}-models/classifier/`, labels: 'models/classifier/labels.json', input: { width: 224, height: 224, range: [0, 1] }, topK: 3, tag: 'category' }],
    colors: { count: 3 },
    tags: { prefix: 'ml:' },
    prune: 'trace',
    artifacts: { bucket: `${name}-artifacts`, prefix: 'lambda-ml/' },
    trigger: { bucket: `${name}-assets`, prefix: 'images/', suffixes: ['.jpg', '.jpeg', '.png', '.webp'] },
  };
  const pkg = { name, version: '1.0.0', private: true, type: 'module', scripts: { budget: 'lambda-ml budget', package: 'lambda-ml package', deploy: 'lambda-ml deploy' }, dependencies: pinnedHandlerDeps() };
  await writeFile(files[0], JSON.stringify(config, null, 2) + '\n');
  await writeFile(files[1], JSON.stringify(pkg, null, 2) + '\n');
  if (!hasModel) await writeFile(files[2], JSON.stringify(['class-0', 'class-1'], null, 2) + '\n');
  if (flags.json) {
    io.stdout.write(JSON.stringify({ schemaVersion: 1, ok: true, dir, files, model: hasModel ? 'MobileNetV2 (nsfwjs)' : null }, null, 2) + '\n');
    return EXIT.OK;
  }
  if (!flags.quiet) {
    const c = makeColors(io, flags);
    const where = relative(io.cwd, dir) || '.';
    io.stdout.write(`${c.green('✓')} wrote ${files.map((f) => relative(dir, f)).join(', ')} in ${where}/\n`);
    io.stdout.write(hasModel ? '  model: MobileNetV2 (from the nsfwjs package) in models/classifier/\n' : `  ${c.yellow('!')} no model: put a TF.js model (model.json + shards) or a Keras .h5 in models/classifier/\n`);
    io.stdout.write(c.dim(`Next: cd ${where} && npm install && npx lambda-ml budget\n`));
  }
  return EXIT.OK;
}
