/** Finds and reads the config: --config, else lambda-ml.config.json, else package.json's "lambda-ml" key (SPEC §8). */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { configError, fsError } from '../lib/errors.js';
import type { Config } from '../types.js';
import { validateConfig } from './validate.js';

export const CONFIG_FILE = 'lambda-ml.config.json';

/** Loads and validates the config for `cwd` (or the explicit `configPath`). */
export async function loadConfig(cwd: string, configPath?: string): Promise<Config> {
  if (configPath) {
    const file = resolve(cwd, configPath);
    const raw = await readJson(file);
    const body = file.endsWith('package.json') ? packageKey(raw, file) : raw;
    return validateConfig(body, dirname(file), file);
  }
  const direct = join(cwd, CONFIG_FILE);
  const text = await readIfExists(direct);
  if (text !== null) return validateConfig(parseJson(text, direct), cwd, direct);
  const pkgPath = join(cwd, 'package.json');
  const pkgText = await readIfExists(pkgPath);
  if (pkgText !== null) {
    const pkg = parseJson(pkgText, pkgPath) as Record<string, unknown>;
    if (pkg && typeof pkg === 'object' && 'lambda-ml' in pkg) return validateConfig(pkg['lambda-ml'], cwd, pkgPath);
  }
  throw configError(`no config found in ${cwd}`, `create ${CONFIG_FILE} (try \`lambda-ml init\`), add a "lambda-ml" key to package.json, or pass --config PATH`);
}

function packageKey(raw: unknown, file: string): unknown {
  if (raw && typeof raw === 'object' && 'lambda-ml' in raw) return (raw as Record<string, unknown>)['lambda-ml'];
  throw configError(`${file} has no "lambda-ml" key`, 'add "lambda-ml": { "function": { ... } } to package.json, or use lambda-ml.config.json');
}

async function readJson(file: string): Promise<unknown> {
  try {
    return parseJson(await readFile(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) throw fsError(error, file);
    throw error;
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(error, file);
  }
}

/** JSON.parse with a one-line error naming the file and the position. Comments are not allowed. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw configError(`${file} is not valid JSON: ${(error as Error).message}`, 'fix the syntax (no comments or trailing commas)');
  }
}
