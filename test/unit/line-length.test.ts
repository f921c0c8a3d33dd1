/**
 * Every line of the .ts files under src/ and test/ fits Prettier's printWidth (120, read from .prettierrc.json).
 * Prettier wraps code but not string literals, template literals, regexes or test names: this catches those.
 * Lengths are in characters (code points), as an editor counts them; `§` or `█` is one, not two or three bytes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX = (JSON.parse(readFileSync(join(ROOT, '.prettierrc.json'), 'utf8')) as { printWidth: number }).printWidth;
/** Folders that hold generated or copied files, as in .prettierignore. */
const SKIP = new Set(['node_modules', 'dist', 'fixtures', 'generated']);

/** The `.ts` files under `dir`, skipping generated folders. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) out.push(...tsFiles(path));
    } else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** `line (length)` for each line of `text` longer than `max` characters. */
function longLines(text: string, max = MAX): { line: number; length: number }[] {
  const found: { line: number; length: number }[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    const length = [...content].length;
    if (length > max) found.push({ line: index + 1, length });
  });
  return found;
}

test('longLines counts characters, not bytes, and reports 1-based lines', () => {
  const fits = 'x'.repeat(119) + '§'; // 120 characters, 121 bytes
  const over = 'y'.repeat(121);
  assert.deepEqual(longLines([fits, over, '', `'${'z'.repeat(200)}'`].join('\n'), 120), [
    { line: 2, length: 121 },
    { line: 4, length: 202 },
  ]);
  assert.deepEqual(longLines(`${fits}\r\n${fits}`, 120), []);
});

test(`every line in src/ and test/ is at most ${MAX} characters`, () => {
  const files = [...tsFiles(join(ROOT, 'src')), ...tsFiles(join(ROOT, 'test'))];
  assert.ok(files.length > 100, `expected the project's .ts files, found ${files.length}`);
  const over = files.flatMap((file) =>
    longLines(readFileSync(file, 'utf8')).map(
      ({ line, length }) => `${relative(ROOT, file).split(sep).join('/')}:${line} (${length})`,
    ),
  );
  assert.deepEqual(over, [], `${over.length} lines over ${MAX} characters:\n${over.join('\n')}`);
});
