/** Finds and reads `lambda-ml.runtime.json`, the config `package` writes beside the handler. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_CONFIG_FILE, type RuntimeConfig } from '../types.js';
import { exists } from './atomic-dir.js';

/**
 * The folders searched, in order: LAMBDA_ML_RUNTIME_CONFIG's folder, LAMBDA_TASK_ROOT, this module's folder, its
 * parent.
 */
export function configCandidates(
  env: NodeJS.ProcessEnv = process.env,
  moduleDir = dirname(fileURLToPath(import.meta.url)),
): string[] {
  const out: string[] = [];
  if (env.LAMBDA_ML_RUNTIME_CONFIG) out.push(env.LAMBDA_ML_RUNTIME_CONFIG);
  if (env.LAMBDA_TASK_ROOT) out.push(join(env.LAMBDA_TASK_ROOT, RUNTIME_CONFIG_FILE));
  out.push(join(moduleDir, RUNTIME_CONFIG_FILE), join(dirname(moduleDir), RUNTIME_CONFIG_FILE));
  return [...new Set(out)];
}

/** Loads the runtime config; its folder is the task root that relative paths (zip, model dirs) resolve against. */
export async function loadRuntimeConfig(
  env: NodeJS.ProcessEnv = process.env,
  moduleDir?: string,
): Promise<{ config: RuntimeConfig; path: string; taskRoot: string }> {
  const candidates = configCandidates(env, moduleDir);
  for (const path of candidates) {
    if (!(await exists(path))) continue;
    const config = JSON.parse(await readFile(path, 'utf8')) as RuntimeConfig;
    if (config.version !== 1)
      throw new Error(
        `${path}: unsupported runtime config ` +
          `version ${String(config.version)} (expected 1); repackage with this lambda-ml`,
      );
    return { config, path, taskRoot: dirname(path) };
  }
  throw new Error(
    `${RUNTIME_CONFIG_FILE} not found (looked in ${candidates.join(', ')}); it is ` +
      `written by \`lambda-ml package\` next to the handler`,
  );
}
