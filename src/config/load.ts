/** Finds and reads the config: --config, else lambda-ml.config.json, else package.json's "lambda-ml" key. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { configError, fsError, inputError } from '../lib/errors.js';
import type { Config } from '../types.js';
import { validateConfig } from './validate.js';

export const CONFIG_FILE = 'lambda-ml.config.json';

/** Loads and validates the config for `cwd` (or the explicit `configPath`). */
export async function loadConfig(cwd: string, configPath?: string): Promise<Config> {
  if (configPath) {
    const file = resolve(cwd, configPath);
    const raw = parseJson(await readConfigFile(file), file);
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
  throw configError(
    `no config found in ${cwd}`,
    `create ${CONFIG_FILE} (try \`lambda-ml init\`), add a "lambda-ml" key to package.json, or pass --config PATH`,
  );
}

function packageKey(raw: unknown, file: string): unknown {
  if (raw && typeof raw === 'object' && 'lambda-ml' in raw) return (raw as Record<string, unknown>)['lambda-ml'];
  throw configError(
    `${file} has no "lambda-ml" key`,
    'add "lambda-ml": { "function": { ... } } to package.json, or use lambda-ml.config.json',
  );
}

/** Reads the file --config names; a folder or a missing file is one line saying what to pass instead. */
async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') {
      const inside = join(file, CONFIG_FILE);
      const hint = `pass the config file${existsSync(inside) ? ':' : ', e.g.'} --config ${inside}`;
      throw configError(`--config ${file} is a folder, not a config file`, hint);
    }
    if (code === 'ENOENT') {
      const hint =
        `check the path given to --config (relative to ${dirname(file)}), ` + `or leave it out to use ./${CONFIG_FILE}`;
      throw inputError(`--config ${file}: not found`, hint);
    }
    throw fsError(error, file);
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

/** What each jsonc-parser error means, in words (the parser's codes, by name). */
const EXPECTED: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":" after the property name',
  CommaExpected: 'expected "," between items',
  CloseBraceExpected: 'expected "}" to close the object',
  CloseBracketExpected: 'expected "]" to close the array',
  EndOfFileExpected: 'expected the end of the file after the top-level value',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'unterminated /* comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string (a raw line break or control character)',
};

/**
 * Parses JSON with comments and trailing commas (JSONC, as tsconfig.json allows) with jsonc-parser; the first
 * syntax error is one line `file:line:column: what was expected`.
 */
export function parseJson(text: string, file: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  if (errors.length === 0) return value;
  const first = errors[0];
  const { line, column } = lineColumn(text, first.offset);
  const name = printParseErrorCode(first.error);
  const found = text.slice(first.offset, first.offset + Math.max(1, Math.min(first.length, 20)));
  const atEnd = first.offset >= text.length;
  const near = atEnd ? ' (at the end of the file)' : found.trim() ? ` (found ${found.trim()})` : '';
  const what = name === 'InvalidSymbol' ? invalidSymbol(text, first.offset, found) : (EXPECTED[name] ?? name);
  const hint = 'fix the syntax there (// and /* */ comments and trailing commas are allowed)';
  throw configError(`${file}:${line}:${column} is not valid JSON: ${what}${near}`, hint);
}

/** The usual causes of an unexpected word: a bare or single-quoted name or string. */
function invalidSymbol(text: string, offset: number, found: string): string {
  if (found.startsWith("'")) return 'strings and property names take double quotes, not single quotes';
  const rest = text
    .slice(offset)
    .replace(/^[^\s:,{}[\]]*/, '')
    .trimStart();
  if (rest.startsWith(':')) return 'expected a property name in double quotes';
  return 'unexpected word (strings take double quotes; the literals are true, false and null)';
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}
