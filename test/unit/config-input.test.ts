/**
 * Config input: JSONC (comments, trailing commas) with line:column errors, the README's example, --config pointing
 * at a folder, S3 bucket names checked against S3's rules (a table) in every s3:// field and bucket field, and the
 * region a layer ARN gives.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, parseJson } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { BUCKET_RULES, bucketNameProblem } from '../../src/lib/s3-bucket-name.js';
import { parseS3Url } from '../../src/lib/s3-url.js';
import { layerArnRegion } from '../../src/remote/region.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const FN = { name: 'asset-classifier', runtime: 'nodejs24.x' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-config-input-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function rejectsWith(fn: () => unknown, message: RegExp, hint?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LambdaMlError, String(error));
    assert.match(error.message, message);
    if (hint) assert.match(error.hint ?? '', hint);
    return true;
  });
}

test('JSONC: // and /* */ comments and trailing commas are accepted, as tsconfig.json allows', () => {
  const text = [
    '{',
    '  // the function',
    '  "function": { "name": "fn", /* inline */ "memoryMb": 1024, },',
    '  "models": [],',
    '}',
  ].join('\n');
  assert.deepEqual(parseJson(text, 'c.json'), { function: { name: 'fn', memoryMb: 1024 }, models: [] });
  assert.equal(validateConfig(parseJson(text, 'c.json'), '/p').function.memoryMb, 1024);
});

// Each syntax error: file:line:column and what was expected.
const SYNTAX_ERRORS: readonly [string, string, RegExp][] = [
  ['missing comma', '{\n  "a": 1\n  "b": 2\n}', /^c\.json:3:3 is not valid JSON: expected "," between items/],
  ['missing colon', '{ "a" 1 }', /^c\.json:1:7 is not valid JSON: expected ":" after the property name/],
  [
    'unquoted key',
    '{\n  function: {}\n}',
    /^c\.json:2:3 is not valid JSON: expected a property name in double quotes \(found function\)/,
  ],
  ['bare word', '{ "a": tru }', /^c\.json:1:8 is not valid JSON: unexpected word .*true, false and null/],
  [
    'unclosed object',
    '{ "a": [1, 2]',
    /^c\.json:1:14 is not valid JSON: expected "}" to close the object \(at the end of the file\)/,
  ],
  [
    'unclosed array',
    '{ "a": [1, 2 }',
    /^c\.json:1:14 is not valid JSON: expected "]" to close the array|expected "," between items/,
  ],
  ['unterminated comment', '{ "a": 1 /* no end', /^c\.json:1:10 is not valid JSON: unterminated \/\* comment/],
  ['unterminated string', '{ "a": "abc\n}', /^c\.json:1:8 is not valid JSON: (unterminated string|invalid character)/],
  ['empty file', '', /^c\.json:1:1 is not valid JSON: expected a value/],
  ['two values', '{} {}', /^c\.json:1:4 is not valid JSON: expected the end of the file/],
  ['single quotes', "{ 'a': 1 }", /^c\.json:1:3 is not valid JSON: strings and property names take double quotes/],
];

test('JSONC syntax errors: one line with file:line:column and what was expected (a table)', () => {
  for (const [name, text, message] of SYNTAX_ERRORS) {
    rejectsWith(() => parseJson(text, 'c.json'), message, /fix the syntax there/);
    assert.ok(true, name);
  }
});

test("the README's config example (```jsonc, with // comments) loads and validates", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```jsonc\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has a ```jsonc config block');
  assert.match(block[1], /\/\/ /, 'the example has comments (that is what is being tested)');
  const config = validateConfig(parseJson(block[1], 'README.md'), '/project');
  assert.equal(config.function.name, 'asset-classifier');
  assert.ok(config.models.length > 0);
});

test('a JSONC config file on disk: budget reads it; a syntax error exits 2 naming file:line:column', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'lambda-ml.config.json'),
    '{\n  // no deps, no models\n  "function": { "name": "fn", },\n}\n',
  );
  const ok = await runCli(['budget', '--json'], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  writeFileSync(join(dir, 'lambda-ml.config.json'), '{\n  "function": { "name": "fn" }\n  "plan": "auto"\n}\n');
  const bad = await runCli(['budget'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^error: .*lambda-ml\.config\.json:3:3 is not valid JSON: expected "," between items \(found "plan"\)\nhint: /,
  );
});

test('--config DIR: one line "is a folder, not a config file" with the file to pass instead', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'lambda-ml.config.json'), JSON.stringify({ function: FN }));
  await assert.rejects(loadConfig(dir, '.'), (error: LambdaMlError) => {
    assert.equal(error.message, `--config ${dir} is a folder, not a config file`);
    assert.equal(error.hint, `pass the config file: --config ${join(dir, 'lambda-ml.config.json')}`);
    return true;
  });
  const result = await runCli(['budget', '--config', 'empty'], { cwd: dir });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    `error: --config ${join(dir, 'empty')} is a folder, not a config file\nhint: pass the config ` +
      `file, e.g. --config ${join(dir, 'empty', 'lambda-ml.config.json')}\n`,
  );
});

// S3's bucket naming rules, a row per rule: a name that breaks it and the words of the error.
const BUCKET_NAMES: readonly [string, string | null, RegExp | null][] = [
  ['my-models', null, null],
  ['a.b-c.123', null, null],
  ['abc', null, null],
  ['a'.repeat(63), null, null],
  ['m', 'length', /must be 3 to 63 characters long \(it has 1\)/],
  ['ab', 'length', /it has 2/],
  ['a'.repeat(64), 'length', /it has 64/],
  [
    'My-Models',
    'characters',
    /only lowercase letters, digits, dots \(\.\) and hyphens \(-\) \(found "M" \(upper case\)\)/,
  ],
  ['bad_bucket', 'characters', /found "_"/],
  ['my models', 'characters', /found " "/],
  ['-models', 'ends', /begin and end with a letter or digit \(it begins with "-"\)/],
  ['models-', 'ends', /it ends with "-"/],
  ['.models', 'ends', /it begins with "\."/],
  ['my..models', 'adjacent-dots', /two adjacent dots/],
  ['192.168.5.4', 'ip-address', /IP address/],
  ['xn--models', 'reserved-prefix', /reserved prefix .*it starts with "xn--"/],
  ['sthree-models', 'reserved-prefix', /"sthree-"/],
  ['amzn-s3-demo-bucket', 'reserved-prefix', /"amzn-s3-demo-"/],
  ['models-s3alias', 'reserved-suffix', /reserved suffix .*it ends with "-s3alias"/],
  ['models--ol-s3', 'reserved-suffix', /"--ol-s3"/],
  ['models.mrap', 'reserved-suffix', /"\.mrap"/],
  ['models--x-s3', 'reserved-suffix', /"--x-s3"/],
  ['models--table-s3', 'reserved-suffix', /"--table-s3"/],
];

test('S3 bucket names: each rule of the AWS page, as a table (the first rule broken is named)', () => {
  const ids = new Set(BUCKET_RULES.map((rule) => rule.id));
  for (const [name, rule, words] of BUCKET_NAMES) {
    const problem = bucketNameProblem(name);
    if (rule === null) {
      assert.equal(problem, null, name);
      continue;
    }
    assert.ok(ids.has(rule), rule);
    const broken = BUCKET_RULES.find((r) => r.breaks(name) !== null);
    assert.equal(broken?.id, rule, name);
    assert.match(problem ?? '', words as RegExp, name);
  }
  // every rule of the table has a row that breaks it
  for (const id of ids)
    assert.ok(
      BUCKET_NAMES.some(([, rule]) => rule === id),
      `no row breaks "${id}"`,
    );
});

test('s3:// fields and bucket fields of the config name the field and the rule broken', () => {
  const cases: [unknown, RegExp, RegExp][] = [
    [
      { models: [{ name: 'm', s3: 's3://m/x/' }] },
      new RegExp(
        [
          String.raw`^models\[0\]\.s3 "s3:\/\/m\/x\/" has a bucket name "m" that breaks S3's naming `,
          String.raw`rules: it must be 3 to 63 characters long \(it has 1\)$`,
        ].join(''),
      ),
      /bucketnamingrules\.html/,
    ],
    [
      { models: [{ name: 'm', s3: 's3://My-Models/m/' }] },
      /^models\[0\]\.s3 .* bucket name "My-Models" .*found "M" \(upper case\)/,
      /bucket name S3 accepts/,
    ],
    [
      { models: [{ name: 'm', s3: 'https://my-models/m/' }] },
      /^models\[0\]\.s3 "https:\/\/my-models\/m\/" is not an s3:\/\/ URL$/,
      /s3:\/\/bucket\/key/,
    ],
    [{ models: [{ name: 'm', s3: 's3:///m/' }] }, /has no bucket name after s3:\/\//, /bucket name S3 accepts/],
    [{ results: 's3://my_results/out/' }, /^results .*"my_results" .*found "_"/, /rules/],
    [
      { artifacts: { bucket: 'Bad_Bucket' } },
      /^artifacts\.bucket "Bad_Bucket" breaks S3's bucket naming rules: it may contain only lowercase/,
      /e\.g\. "bad-bucket"/,
    ],
    [
      { artifacts: { bucket: 's3://my-artifacts/x' } },
      /^artifacts\.bucket "s3:\/\/my-artifacts\/x" must be a bucket name, not an s3:\/\/ URL$/,
      /"bucket": "my-artifacts"/,
    ],
    [
      { trigger: { bucket: '192.168.5.4' } },
      /^trigger\.bucket "192\.168\.5\.4" breaks S3's bucket naming rules: .*IP address/,
      /rename it/,
    ],
    [{ trigger: { bucket: 'xn--assets' } }, /^trigger\.bucket .*reserved prefix/, /rename it/],
    [{ trigger: { bucket: 'a' } }, /^trigger\.bucket "a" .*3 to 63/, /e\.g\. "a-bucket"/],
  ];
  for (const [extra, message, hint] of cases)
    rejectsWith(() => validateConfig({ function: FN, ...(extra as object) }, '/p'), message, hint);
  // and the good ones pass
  const ok = validateConfig(
    {
      function: FN,
      results: 's3://my-results/x/',
      artifacts: { bucket: 'my-artifacts' },
      trigger: { bucket: 'dam-assets' },
      models: [{ name: 'm', s3: 's3://my-models/m/' }],
    },
    '/p',
  );
  assert.equal(ok.artifacts.bucket, 'my-artifacts');
  assert.equal(ok.trigger?.bucket, 'dam-assets');
});

test('parseS3Url (invoke --s3, staging, deploy) names the rule too; good URLs split into bucket and key', () => {
  assert.deepEqual(parseS3Url('s3://my-models/a/b/'), { bucket: 'my-models', key: 'a/b/' });
  assert.deepEqual(parseS3Url('s3://my-models'), { bucket: 'my-models', key: '' });
  rejectsWith(
    () => parseS3Url('s3://m/cat.jpg', '--s3'),
    /^--s3 has a bucket name "m" that breaks S3's naming rules: it must be 3 to 63/,
  );
  rejectsWith(() => parseS3Url('http://x/y'), /is not an s3:\/\/ URL/);
});

test('region: a layer ARN gives it when neither the config nor the environment does', () => {
  const layers = (arns: (string | null)[]) => ({
    layers: arns.map((arn) => ({ name: 'l', zip: null, dir: null, arn })),
  });
  assert.equal(layerArnRegion(layers(['arn:aws:lambda:eu-central-1:123456789012:layer:tf:3'])), 'eu-central-1');
  assert.equal(layerArnRegion(layers([null, 'arn:aws-cn:lambda:cn-north-1:123456789012:layer:tf:1'])), 'cn-north-1');
  assert.equal(layerArnRegion(layers([null])), null);
  assert.equal(layerArnRegion(layers([])), null);
});
