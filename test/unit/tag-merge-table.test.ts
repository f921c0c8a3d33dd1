/**
 * The Node handler's S3 tag rules against test/cases/tag-merge.json, row by row. The Python bootstrap's tests read the
 * same table (test/python/test_bootstrap.py), so both handlers sanitise and merge tags the same way.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mergeTags, sanitizeTagKey, sanitizeTagValue, type Tag } from '../../src/handler/tags.js';

/** A string, or [text, times] pieces concatenated (long keys stay readable). */
type Text = string | [string, number][];
type Pair = [string, string];

interface Table {
  readonly keys: readonly { name: string; in: Text; out: Text }[];
  readonly values: readonly { name: string; in: Text; out: Text }[];
  readonly merge: readonly {
    name: string;
    prefix: string;
    existing: Pair[];
    ours: Pair[];
    tags: Pair[];
    dropped: Pair[];
    replaced: string[];
  }[];
  readonly inputs: readonly unknown[];
}

const table = JSON.parse(readFileSync(new URL('../cases/tag-merge.json', import.meta.url), 'utf8')) as Table;
const text = (t: Text) => (typeof t === 'string' ? t : t.map(([piece, times]) => piece.repeat(times)).join(''));
const toTags = (pairs: readonly Pair[]): Tag[] => pairs.map(([Key, Value]) => ({ Key, Value }));
const toPairs = (tags: readonly Tag[]): Pair[] => tags.map((t) => [t.Key, t.Value]);

test('the table has rows in every section', () => {
  assert.ok(table.keys.length >= 10 && table.values.length >= 5 && table.merge.length >= 10, 'rows were read');
  assert.ok(table.inputs.length > 0, 'the Python-only input rows are there too');
});

test('sanitizeTagKey, row by row', async (t) => {
  for (const row of table.keys) await t.test(row.name, () => assert.equal(sanitizeTagKey(text(row.in)), text(row.out)));
});

test('sanitizeTagValue, row by row', async (t) => {
  for (const row of table.values)
    await t.test(row.name, () => assert.equal(sanitizeTagValue(text(row.in)), text(row.out)));
});

test('mergeTags, row by row: every user tag kept, at most 10', async (t) => {
  for (const row of table.merge) {
    await t.test(row.name, () => {
      const merged = mergeTags(toTags(row.existing), toTags(row.ours), row.prefix);
      assert.deepEqual(toPairs(merged.tags), row.tags, 'tags');
      assert.deepEqual(toPairs(merged.dropped), row.dropped, 'dropped');
      assert.deepEqual(merged.replaced, row.replaced, 'replaced');
      assert.ok(merged.tags.length <= 10);
      const isOurs = (key: string) => row.prefix !== '' && key.startsWith(row.prefix);
      for (const [key, value] of row.existing.filter(([key]) => !isOurs(key)))
        assert.ok(
          merged.tags.some((tag) => tag.Key === key && tag.Value === value),
          `user tag ${key} kept`,
        );
    });
  }
});
