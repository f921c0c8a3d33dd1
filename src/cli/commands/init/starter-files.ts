/** The starter project's lambda-ml.config.json and package.json, as plain objects. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { inputError } from '../../../lib/errors.js';
import { TMP_DEFAULT_MB } from '../../../lib/limits.js';
import { bucketNames } from '../../../lib/names.js';
import { HANDLER_PACKAGES } from '../../../runtimes/node-handler.js';
import { DEFAULT_NODE_RUNTIME } from '../../../runtimes/table.js';
import type { StarterModel } from './starter-model.js';

/** npm scripts of the starter: each runs the lambda-ml of its devDependencies. */
export const STARTER_SCRIPTS = {
  budget: 'lambda-ml budget',
  package: 'lambda-ml package',
  deploy: 'lambda-ml deploy',
  invoke: 'lambda-ml invoke --local',
} as const;

/** The handler's runtime deps, pinned to the versions lambda-ml itself was built and tested with. */
export function pinnedHandlerDeps(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const name of HANDLER_PACKAGES) {
    let version = '';
    try {
      const main = require.resolve(name);
      const marker = join('node_modules', name);
      const root = main.slice(0, main.lastIndexOf(marker) + marker.length);
      version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    } catch {
      throw inputError(`cannot find ${name} next to lambda-ml`, 'reinstall lambda-ml (npm ci)');
    }
    out[name] = version;
  }
  return out;
}

/** The config: one Node function named `name`, its buckets `<name>-models/-artifacts/-assets`, the model if any. */
export function starterConfig(name: string, model: StarterModel | null): Record<string, unknown> {
  const buckets = bucketNames(name);
  const models =
    model === null
      ? []
      : [
          {
            name: model.name,
            path: model.entry ? `models/${model.name}/${model.entry}` : `models/${model.name}`,
            s3: `s3://${buckets.models}/${model.name}/`,
            labels: `models/${model.name}/labels.json`,
            input: { width: model.input.width, height: model.input.height, range: [0, 1] },
            topK: 1,
            tag: model.name,
          },
        ];
  return {
    function: {
      name,
      runtime: DEFAULT_NODE_RUNTIME,
      architecture: 'x86_64',
      memoryMb: 2048,
      ephemeralStorageMb: TMP_DEFAULT_MB,
      timeoutS: 60,
      role: `arn:aws:iam::123456789012:role/${name}`,
    },
    region: 'eu-west-1',
    deps: 'node_modules',
    models,
    colors: { count: 3 },
    tags: { prefix: 'ml:' },
    prune: 'trace',
    artifacts: { bucket: buckets.artifacts, prefix: 'lambda-ml/' },
    trigger: { bucket: buckets.assets, prefix: 'images/', suffixes: ['.jpg', '.jpeg', '.png', '.webp'] },
  };
}

/** package.json: the handler's deps (pinned) and lambda-ml itself as a devDependency (`lambdaMl` is its spec). */
export function starterPackage(name: string, lambdaMl: string): Record<string, unknown> {
  return {
    name,
    version: '1.0.0',
    private: true,
    type: 'module',
    scripts: { ...STARTER_SCRIPTS },
    dependencies: pinnedHandlerDeps(),
    devDependencies: { 'lambda-ml': lambdaMl },
    allowScripts: { ...STARTER_ALLOW_SCRIPTS },
  };
}

/**
 * npm's install-script policy (package.json `allowScripts`, npm 11.16+; advisory until npm 12 blocks what it does not
 * list): sharp's check and onnxruntime-node's installer, which `.npmrc` tells to skip its CUDA download.
 */
export const STARTER_ALLOW_SCRIPTS: Readonly<Record<string, boolean>> = Object.freeze({
  sharp: true,
  'onnxruntime-node': true,
});
