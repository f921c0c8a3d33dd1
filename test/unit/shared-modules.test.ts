/**
 * The modules the bundled handler shares with the CLI side (docs/design.md, "Layers and imports"): the s3:// parser,
 * the S3 endpoint lookup and the zip central-directory reader, each checked as a table and, for the SDK client and
 * the zip reader, against the real thing (the AWS SDK's resolved config, yauzl on zips made by Info-ZIP).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as sdk from '@aws-sdk/client-s3';
import yauzl from 'yauzl';
import { readZipDirectory } from '../../src/archive/zip-directory.js';
import { parseOnFailure } from '../../src/config/on-failure.js';
import { sidecarLocation } from '../../src/handler/process-record.js';
import { makeS3Client } from '../../src/handler/s3.js';
import { chooseEndpoint } from '../../src/invoke/s3-endpoint.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { s3EndpointFromEnv } from '../../src/lib/s3-endpoint.js';
import { parseS3Url, splitS3Url } from '../../src/lib/s3-url.js';

const SPLITS: readonly [string, { bucket: string; key: string } | null][] = [
  ['s3://my-models/a/b/', { bucket: 'my-models', key: 'a/b/' }],
  ['s3://my-models/cat.jpg', { bucket: 'my-models', key: 'cat.jpg' }],
  ['s3://my-models', { bucket: 'my-models', key: '' }],
  ['s3://my-models/', { bucket: 'my-models', key: '' }],
  ['s3://my-models//x', { bucket: 'my-models', key: '/x' }],
  ['s3://', null],
  ['s3:///key', null],
  ['http://my-models/key', null],
  ['my-models/key', null],
];

test('splitS3Url, row by row; parseS3Url (S3 naming rules on top) splits every good row the same', async (t) => {
  for (const [url, want] of SPLITS) {
    await t.test(url, () => {
      assert.deepEqual(splitS3Url(url), want);
      if (want) assert.deepEqual(parseS3Url(url), want);
      else assert.throws(() => parseS3Url(url), LambdaMlError);
    });
  }
});

test("the handler's sidecar key and onFailure's bucket come from the same parser", () => {
  for (const results of ['s3://results/out', 's3://results/out/']) {
    assert.deepEqual(sidecarLocation(results, 'assets', 'a/b.jpg'), {
      bucket: 'results',
      key: 'out/assets/a/b.jpg.json',
    });
  }
  assert.deepEqual(sidecarLocation('s3://results', 'assets', 'b.jpg'), { bucket: 'results', key: 'assets/b.jpg.json' });
  assert.throws(() => sidecarLocation('results/out', 'assets', 'b.jpg'), /bad results location results\/out/);
  assert.deepEqual(parseOnFailure('s3://my-failures'), {
    kind: 's3',
    arn: 'arn:aws:s3:::my-failures',
    bucket: 'my-failures',
  });
  assert.match((parseOnFailure('s3://my-failures/p') as { problem: string }).problem, /has a key prefix/);
  assert.match((parseOnFailure('s3:///p') as { problem: string }).problem, /must be an SQS queue ARN or an s3:/);
});

const ENDPOINTS: readonly [Record<string, string>, ReturnType<typeof s3EndpointFromEnv>][] = [
  [{}, null],
  [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }, { variable: 'AWS_ENDPOINT_URL', url: 'http://127.0.0.1:1' }],
  [
    { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2' },
    { variable: 'AWS_ENDPOINT_URL_S3', url: 'http://127.0.0.1:2' },
  ],
  [
    { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_S3: '' },
    { variable: 'AWS_ENDPOINT_URL', url: 'http://127.0.0.1:1' },
  ],
];

test('s3EndpointFromEnv, row by row; invoke/backfill --local and the handler client read the same', async (t) => {
  for (const [env, want] of ENDPOINTS) {
    await t.test(JSON.stringify(env), async () => {
      assert.deepEqual(s3EndpointFromEnv(env), want);
      assert.equal(chooseEndpoint(undefined, env), want?.url ?? null);
      assert.equal(chooseEndpoint('http://127.0.0.1:9', env), 'http://127.0.0.1:9', '--endpoint wins');
      const client = makeS3Client(sdk, { AWS_REGION: 'eu-west-1', ...env });
      try {
        assert.equal(client.config.forcePathStyle, want !== null, 'path style exactly when an endpoint is set');
        const endpoint = await client.config.endpoint?.();
        assert.equal(
          endpoint ? `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}` : null,
          want?.url ?? null,
        );
      } finally {
        client.destroy();
      }
    });
  }
  assert.throws(() => chooseEndpoint(undefined, { AWS_ENDPOINT_URL_S3: 'ftp://127.0.0.1:4569' }), {
    code: 'input',
    message: /^AWS_ENDPOINT_URL_S3 "ftp:\/\/127.0.0.1:4569" must use http:\/\/ or https:\/\//,
  });
});

test("the handler's S3 client takes region and keys from the env it is given, as Lambda sets them", async () => {
  const env = {
    AWS_REGION: 'ap-southeast-2',
    AWS_ACCESS_KEY_ID: 'AKIDLAMBDA',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'token',
  };
  const client = makeS3Client(sdk, env);
  try {
    assert.equal(await client.config.region(), 'ap-southeast-2');
    const credentials = await client.config.credentials();
    assert.deepEqual(
      [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken],
      ['AKIDLAMBDA', 'secret', 'token'],
    );
  } finally {
    client.destroy();
  }
});

/** yauzl's view of a zip: the fields our reader must agree on. */
function yauzlListing(path: string): Promise<object[]> {
  return new Promise((done, fail) => {
    // Raw names: Info-ZIP on unix writes UTF-8 without the UTF-8 flag, which yauzl would decode as CP437.
    yauzl.open(path, { lazyEntries: true, decodeStrings: false }, (error, zip) => {
      if (error || !zip) return fail(error);
      const rows: object[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        const mode = e.versionMadeBy >> 8 === 3 ? e.externalFileAttributes >>> 16 : 0;
        rows.push({
          name: (e.fileName as unknown as Buffer).toString('utf8'),
          bytes: e.uncompressedSize,
          compressedBytes: e.compressedSize,
          crc32: e.crc32,
          mode,
        });
        zip.readEntry();
      });
      zip.on('end', () => done(rows));
      zip.on('error', fail);
      zip.readEntry();
    });
  });
}

test('readZipDirectory agrees with yauzl on Info-ZIP zips, plain and zip64 (-fz), UTF-8 names unflagged', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-zipdir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  await mkdir(join(src, 'pkg', 'empty'), { recursive: true });
  await writeFile(join(src, 'pkg', 'index.js'), 'module.exports = 1;\n'.repeat(500));
  await writeFile(join(src, 'pkg', 'été.txt'), 'ok');
  await symlink('index.js', join(src, 'pkg', 'main.js'));
  for (const flags of [[], ['-fz']]) {
    await t.test(`zip -r -y ${flags.join(' ')}`.trim(), async () => {
      const path = join(dir, `out${flags.join('')}.zip`);
      execFileSync('zip', ['-q', '-r', '-X', '-y', ...flags, path, 'pkg'], { cwd: src });
      const ours = readZipDirectory(await readFile(path));
      const pick = ({ name, bytes, compressedBytes, crc32, mode }: (typeof ours)[number]) =>
        ({ name, bytes, compressedBytes, crc32, mode }) as object;
      assert.deepEqual(ours.map(pick), await yauzlListing(path));
      assert.deepEqual(
        ours.filter((e) => e.isSymlink).map((e) => e.name),
        ['pkg/main.js'],
      );
      assert.ok(ours.some((e) => e.name === 'pkg/empty/' && e.isDirectory));
      assert.ok(ours.some((e) => e.name === 'pkg/été.txt'));
    });
  }
  assert.throws(() => readZipDirectory(Buffer.from('not a zip at all')), /not a zip file/);
});
