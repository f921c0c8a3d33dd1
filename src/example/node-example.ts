/**
 * The bundled Node example (fixtures/node-example): its deps installed with `npm ci` and its model unpacked from
 * nsfwjs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inputError } from '../lib/errors.js';
import { nsfwjsLabels, unpackNsfwjsModel } from './nsfwjs-model.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
/** The repo root, from src/example or dist/example. */
export const REPO_ROOT = join(here, '..', '..');
export const NODE_EXAMPLE = join(REPO_ROOT, 'fixtures', 'node-example');

/** Installs the example's deps (npm ci, once) and unpacks its model (once); returns the example folder. */
export async function ensureNodeExample(log: (line: string) => void = () => {}): Promise<string> {
  if (!existsSync(join(NODE_EXAMPLE, 'node_modules', '.package-lock.json'))) {
    log("installing the example's deps (npm ci in fixtures/node-example)…");
    try {
      await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: NODE_EXAMPLE,
        maxBuffer: 64 << 20,
      });
    } catch (error) {
      throw inputError(
        `npm ci in ${NODE_EXAMPLE} ` +
          `failed: ${((error as { stderr?: string }).stderr ?? String(error)).trim().split('\n').pop()}`,
        'check your network access to the npm registry and run it by hand',
        error,
      );
    }
  }
  const modelDir = join(NODE_EXAMPLE, 'models', 'mobilenet_v2');
  await ensureExampleModel(modelDir);
  return NODE_EXAMPLE;
}

/** Unpacks the MobileNetV2 layers model that the nsfwjs npm package ships, with its labels. */
export async function ensureExampleModel(modelDir: string): Promise<void> {
  await unpackNsfwjsModel(modelDir, 'mobilenet_v2');
  const labels = join(modelDir, 'labels.json');
  if (!existsSync(labels)) await writeFile(labels, JSON.stringify(nsfwjsLabels(), null, 2) + '\n');
}
