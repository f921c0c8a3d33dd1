/**
 * The Lambda entry (`index.handler`). Cold start: read lambda-ml.runtime.json, sideload deps when the plan says so,
 * then load tfjs, sharp and the AWS SDK through requireFrom (ESM import ignores NODE_PATH), and build the handler.
 * Only Node built-ins are imported statically, so this works before any npm package is on disk.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tf } from './backend.js';
import { createHandler, type LambdaContext, type LambdaHandler } from './handler.js';
import type { Sharp } from './image.js';
import { prependNodePath, requireFrom } from './require-from.js';
import { loadRuntimeConfig } from './runtime-config.js';
import { makeS3Client, makeS3Ops, type S3Module } from './s3.js';
import { ensureDeps } from './sideload.js';
import { tmpRoot } from './tmp-space.js';

const moduleDir = dirname(fileURLToPath(import.meta.url));

/** Cold start: everything that happens once per execution environment. Exported for `invoke --local` and tests. */
export async function bootstrap(context?: LambdaContext, env: NodeJS.ProcessEnv = process.env): Promise<LambdaHandler> {
  const t0 = performance.now();
  const { config, taskRoot } = await loadRuntimeConfig(env, moduleDir);
  const tmpDir = tmpRoot(env);
  const roots: string[] = [];
  const coldStart: Record<string, unknown> = { strategy: config.strategy };
  if (config.strategy !== 'bundle' && config.sideload) {
    const deps = await ensureDeps({
      config: config.sideload,
      taskRoot,
      tmpDir,
      env,
      remainingMs: context ? () => context.getRemainingTimeInMillis() : undefined,
    });
    roots.push(deps.nodeModules);
    Object.assign(coldStart, {
      extract: deps.timings.extract,
      fetch: deps.timings.fetch,
      verify: deps.timings.verify,
      reused: deps.reused,
      depsDir: deps.dir,
    });
  }
  roots.push(...config.layerNodeModules, join(taskRoot, 'node_modules'), join(moduleDir, 'node_modules'));
  // CommonJS requires made inside sideloaded or layer packages look in each other's folders too.
  prependNodePath(roots.slice(0, roots.length - 2), env);
  const req = requireFrom([...new Set(roots)]);
  const t = performance.now();
  const tf = req<Tf>('@tensorflow/tfjs');
  const sharp = req<Sharp>('sharp');
  const sdk = req<S3Module>('@aws-sdk/client-s3');
  coldStart.requireDeps = Math.round(performance.now() - t);
  coldStart.bootstrap = Math.round(performance.now() - t0);
  return createHandler({
    config,
    taskRoot,
    tmpDir,
    tf,
    sharp,
    s3: makeS3Ops(sdk, makeS3Client(sdk, env)),
    require: req,
    env,
    coldStart,
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
