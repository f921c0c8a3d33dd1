/** The manifest's encoding, the CSV dialect, the key filter, and a listing of several pages (a stub S3 client). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { csvField, csvLine, parseCsv } from '../../src/backfill/csv.js';
import { matchesKeyFilter, normalizeSuffixes } from '../../src/backfill/key-filter.js';
import { decodeManifestKey, encodeManifestKey, manifestCsv, manifestLine } from '../../src/backfill/manifest-csv.js';
import { emptyListingStats, listBackfillObjects } from '../../src/backfill/manifest-list.js';

const KEYS: [key: string, encoded: string][] = [
  ['photos/cat.jpg', 'photos/cat.jpg'],
  ['photos/with space.jpg', 'photos/with%20space.jpg'],
  ['photos/plus+sign.jpg', 'photos/plus%2Bsign.jpg'],
  ['photos/comma,quote".jpg', 'photos/comma%2Cquote%22.jpg'],
  ['photos/été.jpg', 'photos/%C3%A9t%C3%A9.jpg'],
  ['photos/🌞.png', 'photos/%F0%9F%8C%9E.png'],
  ['photos/100%.jpg', 'photos/100%25.jpg'],
  ['a/b?c#d&e=f.jpg', 'a/b%3Fc%23d%26e%3Df.jpg'],
  ["keep-_.!~*'().jpg", "keep-_.!~*'().jpg"],
  ['line\nbreak.jpg', 'line%0Abreak.jpg'],
];

test('manifest keys are URL-encoded (slashes kept) and decode back, also with form decoding', () => {
  for (const [key, encoded] of KEYS) {
    assert.equal(encodeManifestKey(key), encoded, key);
    assert.equal(decodeManifestKey(encoded), key, encoded);
  }
  assert.equal(decodeManifestKey('photos/with+space.jpg'), 'photos/with space.jpg', 'S3 writes a space as + in events');
  assert.equal(decodeManifestKey('bad%zzescape'), 'bad%zzescape');
});

test('manifest lines: bucket,key[,version], one per object', () => {
  assert.equal(manifestLine({ bucket: 'b', key: 'a b.jpg' }), 'b,a%20b.jpg');
  assert.equal(manifestLine({ bucket: 'b', key: 'k', versionId: 'v1' }), 'b,k,v1');
  assert.equal(
    manifestCsv([
      { bucket: 'b', key: 'x' },
      { bucket: 'b', key: 'y,z' },
    ]),
    'b,x\nb,y%2Cz\n',
  );
});

test('CSV: quoting only where needed; parsing quotes, commas, line breaks, CRLF, no last newline', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvLine(['a', '', 'b\nc']), 'a,,"b\nc"');
  const rows: [string, string[][]][] = [
    [
      'a,b\nc,d\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'a,b\r\nc,d',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    ['a,"b,c","d ""e"""\n', [['a', 'b,c', 'd "e"']]],
    ['a,"multi\nline",z\n', [['a', 'multi\nline', 'z']]],
    ['a,,\n', [['a', '', '']]],
    ['', []],
  ];
  for (const [text, expected] of rows) assert.deepEqual(parseCsv(text), expected, JSON.stringify(text));
  assert.throws(() => parseCsv('a,"open'), /unterminated/);
});

test('the key filter: prefix, any suffix (case-sensitive), never folder markers', () => {
  const filter = { prefix: 'shop/', suffixes: ['.jpg', '.png'] };
  const cases: [string, boolean][] = [
    ['shop/a.jpg', true],
    ['shop/deep/b.png', true],
    ['shop/a.JPG', false],
    ['shop/a.gif', false],
    ['other/a.jpg', false],
    ['shop/', false],
    ['shop/dir.jpg/', false],
  ];
  for (const [key, expected] of cases) assert.equal(matchesKeyFilter(key, filter), expected, key);
  assert.equal(matchesKeyFilter('anything', { prefix: '', suffixes: [] }), true);
  assert.deepEqual(normalizeSuffixes(['.png', '.jpg', '.png']), ['.jpg', '.png']);
});

test('listing: every page is read with its continuation token, stats count requests and matches', async () => {
  const pages = [
    {
      Contents: [
        { Key: 'p/a.jpg', Size: 10 },
        { Key: 'p/b.txt', Size: 5 },
      ],
      IsTruncated: true,
      NextContinuationToken: 't1',
    },
    {
      Contents: [
        { Key: 'p/c.jpg', Size: 20 },
        { Key: 'p/d/', Size: 0 },
      ],
      IsTruncated: true,
      NextContinuationToken: 't2',
    },
    { Contents: [{ Key: 'p/e.jpg', Size: 30 }], IsTruncated: false },
  ];
  const sent: Record<string, unknown>[] = [];
  const s3 = {
    send: async (command: ListObjectsV2Command) => {
      sent.push(command.input as unknown as Record<string, unknown>);
      return pages[sent.length - 1];
    },
  } as unknown as S3Client;
  const stats = emptyListingStats();
  const keys: string[] = [];
  for await (const o of listBackfillObjects(
    s3,
    { bucket: 'bkt', prefix: 'p/', suffixes: ['.jpg'] },
    { stats, pageSize: 2 },
  ))
    keys.push(o.key);
  assert.deepEqual(keys, ['p/a.jpg', 'p/c.jpg', 'p/e.jpg']);
  assert.deepEqual(
    sent.map((s) => [s.Prefix, s.ContinuationToken, s.MaxKeys]),
    [
      ['p/', undefined, 2],
      ['p/', 't1', 2],
      ['p/', 't2', 2],
    ],
  );
  assert.deepEqual(stats, { listed: 5, matched: 3, bytes: 60, requests: 3 });
});
