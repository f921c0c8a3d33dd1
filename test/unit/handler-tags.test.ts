import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildTags,
  formatTop,
  mergeTags,
  sanitizeTagKey,
  sanitizeTagValue,
  truncateUtf16,
} from '../../src/handler/tags.js';

const S3_CHARS = /^[\p{L}\p{N}\s+\-=._:/@]*$/u;
const models = [
  {
    tag: 'category',
    top: [
      { label: 'tabby, tabby cat', score: 0.9123 },
      { label: 'tiger cat', score: 0.05 },
    ],
  },
  {
    tag: 'nsfw',
    top: [
      { label: 'Neutral', score: 0.998 },
      { label: 'Drawing', score: 0.001 },
    ],
  },
];

test('buildTags: top-1 per model, then colours, then :top, sanitised', () => {
  const tags = buildTags(models, ['white', 'saddlebrown'], 'ml:');
  assert.deepEqual(
    tags.map((t) => t.Key),
    ['ml:category', 'ml:nsfw', 'ml:colors', 'ml:category:top', 'ml:nsfw:top'],
  );
  assert.equal(tags[0].Value, 'tabby_ tabby cat');
  assert.equal(tags[2].Value, 'white saddlebrown');
  assert.equal(tags[3].Value, 'tabby__tabby_cat=0.912 tiger_cat=0.050');
  assert.equal(tags[4].Value, 'Neutral=0.998 Drawing=0.001');
  for (const t of tags) assert.match(`${t.Key}${t.Value}`, S3_CHARS);
});

test('sanitising: charset, Unicode letters kept, lengths in UTF-16 units, no aws: keys, no split surrogates', () => {
  assert.equal(sanitizeTagValue('Crème brûlée <3 & "more"'), 'Crème brûlée _3 _ _more_');
  assert.equal(sanitizeTagValue('a\t\nb'), 'a b');
  assert.equal(sanitizeTagKey('aws:thing'), '_aws:thing');
  assert.equal(sanitizeTagKey('AWS:x'), '_AWS:x');
  assert.equal(sanitizeTagKey('***'), '___');
  assert.equal(sanitizeTagKey(''), '_');
  assert.equal(sanitizeTagValue('x'.repeat(300)).length, 256);
  assert.equal(sanitizeTagKey('k'.repeat(300)).length, 128);
  assert.equal(truncateUtf16(`${'a'.repeat(255)}\u{1F600}`, 256), 'a'.repeat(255));
  // Emoji are not letters: replaced, so they never reach S3.
  assert.equal(sanitizeTagValue('cat 😀'), 'cat _');
  const long = formatTop(Array.from({ length: 40 }, (_, i) => ({ label: `label-number-${i}`, score: 0.01 })));
  assert.ok(long.length <= 256 && long.endsWith('=0.010'));
});

test('mergeTags keeps every user tag, replaces our old ones, and fills at most 10', () => {
  const ours = buildTags(models, ['white'], 'ml:');
  const existing = [
    { Key: 'owner', Value: 'me' },
    { Key: 'ml:category', Value: 'old' },
    { Key: 'ml:gone', Value: 'x' },
  ];
  const merged = mergeTags(existing, ours, 'ml:');
  assert.deepEqual(
    merged.tags.map((t) => t.Key),
    ['owner', 'ml:category', 'ml:nsfw', 'ml:colors', 'ml:category:top', 'ml:nsfw:top'],
  );
  assert.deepEqual(merged.dropped, []);
  assert.deepEqual(merged.replaced.sort(), ['ml:category', 'ml:gone']);
});

test('9 user tags: only our top-priority tag fits; 10 user tags: none, all logged', () => {
  const ours = buildTags(models, ['white'], 'ml:');
  const nine = Array.from({ length: 9 }, (_, i) => ({ Key: `u${i}`, Value: 'v' }));
  const m9 = mergeTags(nine, ours, 'ml:');
  assert.equal(m9.tags.length, 10);
  assert.deepEqual(
    m9.tags.slice(9).map((t) => t.Key),
    ['ml:category'],
  );
  assert.deepEqual(
    m9.dropped.map((t) => t.Key),
    ['ml:nsfw', 'ml:colors', 'ml:category:top', 'ml:nsfw:top'],
  );
  const ten = [...nine, { Key: 'u9', Value: 'v' }];
  const m10 = mergeTags(ten, ours, 'ml:');
  assert.deepEqual(m10.tags, ten);
  assert.equal(m10.dropped.length, 5);
});

test('with an empty prefix a user tag that collides with ours is never overwritten', () => {
  const ours = buildTags([{ tag: 'category', top: [{ label: 'cat', score: 1 }] }], [], '');
  const merged = mergeTags([{ Key: 'category', Value: 'mine' }], ours, '');
  assert.deepEqual(merged.tags, [
    { Key: 'category', Value: 'mine' },
    { Key: 'category:top', Value: 'cat=1.000' },
  ]);
  assert.deepEqual(
    merged.dropped.map((t) => t.Key),
    ['category'],
  );
});
