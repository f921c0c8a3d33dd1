/** The files `package` adds at the function root: the Node classifier handler, or the Python bootstrap. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaMlError } from '../lib/errors.js';
import type { ZipInput } from './zip-writer.js';

/** The packages the emitted handler loads by name (src/handler/index.ts), in CommonJS form through createRequire. */
export const HANDLER_PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  'sharp',
  '@aws-sdk/client-s3',
] as const;

const here = dirname(fileURLToPath(import.meta.url));
/** dist/handler when running compiled; from src (tsx) the sibling dist/ of the repo. */
export const HANDLER_DIST = existsSync(join(here, '..', 'handler', 'index.js'))
  ? join(here, '..', 'handler')
  : join(here, '..', '..', 'dist', 'handler');

/** The Node handler's files: index.mjs re-exporting the compiled modules under lambda-ml/. */
export function nodeHandlerInputs(): ZipInput[] {
  if (!existsSync(join(HANDLER_DIST, 'index.js'))) {
    throw new LambdaMlError(
      'internal',
      `the compiled handler is missing (${HANDLER_DIST}/index.js)`,
      'run `npm run build` in the lambda-ml folder',
    );
  }
  const inputs: ZipInput[] = [
    {
      name: 'index.mjs',
      kind: 'file',
      data: Buffer.from(
        "// Emitted by lambda-ml: the classifier lives in ./lambda-ml/ (see lambda-ml.runtime.json).\nexport { handler } from './lambda-ml/index.js';\n",
      ),
    },
    { name: 'lambda-ml/package.json', kind: 'file', data: Buffer.from('{ "type": "module" }\n') },
  ];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else if (name.endsWith('.js'))
        inputs.push({
          name: `lambda-ml/${relative(HANDLER_DIST, abs).split('\\').join('/')}`,
          kind: 'file',
          source: abs,
          size: statSync(abs).size,
        });
    }
  };
  walk(HANDLER_DIST);
  return inputs;
}

/** Bytes of a list of inputs (files from disk or memory). */
export function inputBytes(inputs: readonly ZipInput[]): number {
  return inputs.reduce(
    (total, input) => total + (input.data?.length ?? (input.source ? statSync(input.source).size : 0)),
    0,
  );
}

/** Reads a file that ships inside this package (templates). */
export const readPackaged = (path: string) => readFileSync(join(here, path), 'utf8');
