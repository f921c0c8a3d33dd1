/**
 * The Lambda entry (`index.handler`), built by scripts/build-handler.mjs into one ESM file with TF.js, the wasm
 * backend and the S3 client inlined (docs/handler.md, "The bundle"). Cold start: read lambda-ml.runtime.json,
 * sideload the user's deps when the plan says so, load sharp (shipped beside the bundle for the function's CPU),
 * and build the handler.
 */
import * as sdk from '@aws-sdk/client-s3';
import * as tf from '@tensorflow/tfjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHandler, type LambdaContext, type LambdaHandler } from './handler.js';
import type { Sharp } from './image.js';
import { prependNodePath, requireFrom } from './require-from.js';
import { loadRuntimeConfig } from './runtime-config.js';
import { startModelFetches } from './models.js';
import { makeS3BodyFetcher, makeS3Client, makeS3Ops } from './s3.js';
import { ensureDeps } from './sideload.js';
import { tmpRoot } from './tmp-space.js';

const moduleDir = dirname(fileURLToPath(import.meta.url));

/**
 * sharp is the one npm package the bundle imports (it is native): `package` ships it as node_modules/sharp beside
 * index.mjs, built for the function's architecture.
 */
async function loadSharp(): Promise<Sharp> {
  const mod = (await import('sharp')) as { default: Sharp };
  return mod.default;
}

/** Cold start: everything that happens once per execution environment. Exported for `invoke --local` and tests. */
export async function bootstrap(context?: LambdaContext, env: NodeJS.ProcessEnv = process.env): Promise<LambdaHandler> {
  const t0 = performance.now();
  const { config, taskRoot } = await loadRuntimeConfig(env, moduleDir);
  const tmpDir = tmpRoot(env);
  const roots: string[] = [];
  const coldStart: Record<string, unknown> = { strategy: config.strategy };
  const client = makeS3Client(sdk, env);
  const s3 = makeS3Ops(sdk, client);
  // The model downloads start first and run while the deps are extracted and the backend starts (docs/handler.md).
  const get = (bucket: string, key: string) => s3.get(bucket, key, null);
  const getStream = s3.getStream;
  const prefetched = startModelFetches(config.models, { taskRoot, tmpDir, get, getStream, env });
  if (config.strategy !== 'bundle' && config.sideload) {
    const deps = await ensureDeps({
      config: config.sideload,
      taskRoot,
      tmpDir,
      env,
      remainingMs: context ? () => context.getRemainingTimeInMillis() : undefined,
      fetchZip: makeS3BodyFetcher(sdk, client),
    });
    roots.push(deps.nodeModules);
    Object.assign(coldStart, {
      extract: deps.timings.extract,
      fetch: deps.timings.fetch,
      verify: deps.timings.verify,
      reused: deps.reused,
      depsDir: deps.dir,
      format: deps.format,
      timeline: { depsStart: deps.startedAt, depsEnd: deps.endedAt },
    });
  }
  roots.push(...config.layerNodeModules, join(taskRoot, 'node_modules'), join(moduleDir, 'node_modules'));
  // The user's packages (sideloaded, layers, task root) and an optional @tensorflow/tfjs-node load through
  // createRequire (ESM import ignores NODE_PATH); CommonJS requires made inside them look in each other's folders.
  prependNodePath(roots.slice(0, roots.length - 2), env);
  const req = requireFrom([...new Set(roots)]);
  const t = performance.now();
  const sharp = await loadSharp();
  coldStart.requireDeps = Math.round(performance.now() - t);
  coldStart.bootstrap = Math.round(performance.now() - t0);
  return createHandler({
    config,
    taskRoot,
    tmpDir,
    tf,
    sharp,
    s3,
    require: req,
    env,
    coldStart,
    prefetched,
  });
}

let ready: Promise<LambdaHandler> | null = null;

/** The Lambda handler. A failed cold start is not cached: the next invocation tries again. */
export async function handler(event: unknown, context?: LambdaContext): Promise<unknown> {
  if (!ready) {
    ready = bootstrap(context);
    ready.catch(() => {
      ready = null;
    });
  }
  return (await ready)(event, context);
}
